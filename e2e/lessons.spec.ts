/**
 * The course (`?view=lessons`): each lesson is followed step by step the way a student does it —
 * the toolbar's buttons, the console, the tabs — and each step's checks must turn green from the
 * live machine. Questions are answered with values read off the page (the registers, the trap
 * detail, the console), and the verdict must say "Right".
 */
import type { Locator, Page } from '@playwright/test';
import { expect, test } from './fixtures.ts';
import { consoleLines, consoleText } from './helpers.ts';

const LOADED = 'Loaded — press Run';

async function openLesson(page: Page, n: number, step = 1): Promise<void> {
  await page.setViewportSize({ width: 1280, height: 720 });
  await page.goto(`/?view=lessons&lesson=${n}&step=${step}`);
  await expect(page.getByTestId('lesson-title')).toHaveText(new RegExp(`^${n}\\. `));
  await expect(page.getByTestId('status-note')).toHaveText(LOADED, { timeout: 60_000 });
}

/** The current step: every check green, the step marked done. */
async function stepDone(page: Page, timeout = 60_000): Promise<void> {
  const step = page.getByTestId('lesson-step');
  const checks = step.getByTestId('lesson-check');
  expect(await checks.count()).toBeGreaterThan(0);
  for (const c of await checks.all()) await expect(c).toHaveAttribute('data-ok', 'yes', { timeout });
  await expect(step).toHaveAttribute('data-done', 'yes');
}

async function next(page: Page): Promise<void> {
  const k = Number(await page.getByTestId('lesson-step').getAttribute('data-step'));
  await page.getByTestId('lesson-next').click();
  await expect(page.getByTestId('lesson-step')).toHaveAttribute('data-step', String(k + 1));
  await expect.poll(() => new URL(page.url()).searchParams.get('step')).toBe(String(k + 1));
}

/** Load the step's own machine (its button), wait for it. */
async function stepMachine(page: Page): Promise<void> {
  await page.getByTestId('lesson-step').getByTestId('lesson-open-machine').click();
  await expect(page.getByTestId('status-note')).toHaveText(LOADED, { timeout: 60_000 });
}

async function answer(q: Locator, value: string): Promise<void> {
  if ((await q.getByTestId('question-choice').count()) > 0) {
    await q
      .getByTestId('question-choice')
      .filter({ hasText: new RegExp(`^${value}$`) })
      .click();
  } else {
    await q.getByTestId('question-input').fill(value);
    await q.getByTestId('question-submit').click();
  }
  await expect(q.getByTestId('question-verdict')).toContainText('Right', { timeout: 10_000 });
  await expect(q.getByTestId('question-explain')).toBeVisible();
}

/** A field of the selected record's detail pane. */
async function detailField(page: Page, name: string): Promise<string> {
  const dd = page
    .getByTestId('trap-detail')
    .locator('dt', { hasText: new RegExp(`^${name}$`) })
    .locator('+ dd');
  return ((await dd.textContent()) ?? '').trim();
}

async function untilKind(page: Page, kind: string): Promise<void> {
  await page.getByTestId('until-kind').selectOption({ label: kind });
}

async function until(page: Page): Promise<void> {
  await page.getByTestId('run-until').click();
  await expect(page.getByTestId('stop-reason')).toContainText('Stopped at', { timeout: 60_000 });
}

async function runToEnd(page: Page, text: RegExp, timeout = 90_000): Promise<void> {
  await page.getByTestId('run-pause').click();
  await expect.poll(() => consoleText(page), { timeout }).toMatch(text);
}

test('the index lists every lesson; the playground links to it first', async ({ page }) => {
  await page.goto('/?guest=hello&technique=native&vms=1');
  const links = page.getByTestId('page-links').locator('a');
  await expect(links.first()).toHaveText('Lessons');
  await expect(page.getByTestId('lessons-hint')).toBeVisible();
  // At 1280×720 it covers neither the guest's title nor its description (it once floated over them).
  await page.setViewportSize({ width: 1280, height: 720 });
  const hint = await page.getByTestId('lessons-hint').boundingBox();
  for (const el of [page.locator('.banner-title strong'), page.getByTestId('guest-description')]) {
    const b = await el.boundingBox();
    expect(hint && b).toBeTruthy();
    if (!hint || !b) continue;
    const apart =
      hint.x >= b.x + b.width ||
      b.x >= hint.x + hint.width ||
      hint.y >= b.y + b.height ||
      b.y >= hint.y + hint.height;
    expect(apart, 'the hint overlaps the guest banner').toBe(true);
  }
  await links.first().click();
  await expect(page.getByTestId('lesson-index')).toBeVisible();
  await expect(page.getByTestId('lesson-card')).toHaveCount(8);
  await expect(page.getByTestId('lesson-error')).toHaveCount(0);
  await page.setViewportSize({ width: 1280, height: 720 });
  await page.screenshot({ path: 'test-results/lessons-index.png' });
});

test('lesson 2, trap-and-emulate: every step turns green; the link reopens the step', async ({ page }) => {
  test.setTimeout(120_000);
  await openLesson(page, 2);
  // 1. Until the first privileged instruction: LGDT, emulated.
  await until(page);
  await stepDone(page);
  await answer(page.getByTestId('lesson-question').first(), await detailField(page, 'VMM action'));
  await page.screenshot({ path: 'test-results/lessons-2-step1.png' });
  await next(page);
  // 2. Until the LIDT; the answer is the virtual IDTR base the Registers panel shows.
  for (let i = 0; i < 3 && !/lidt/.test(await detailField(page, 'Instruction')); i++) await until(page);
  await stepDone(page);
  // The answer, as a student reads it: the IDTR row of Registers, the virtual CPU's column.
  const idtr = page
    .getByTestId('registers')
    .locator('tr', { has: page.locator('th', { hasText: /^IDTR$/ }) });
  const virt = ((await idtr.locator('td').nth(1).textContent()) ?? '').trim().split(/\s/)[0];
  const real = ((await idtr.locator('td').nth(0).textContent()) ?? '').trim().split(/\s/)[0];
  expect(virt).not.toBe(real);
  await answer(page.getByTestId('lesson-question').first(), virt);
  await next(page);
  // 3. CLI/STI.
  for (let i = 0; i < 4 && !/^(cli|sti)/.test(await detailField(page, 'Instruction')); i++) await until(page);
  await stepDone(page);
  await answer(
    page.getByTestId('lesson-question').first(),
    await detailField(page, 'Guest CPL \\(as the guest believes\\)'),
  );
  // The link in the address bar reopens this lesson at this step and this point of the run.
  const link = page.url();
  expect(new URL(link).searchParams.get('at')).toMatch(/^u0_/);
  await next(page);
  // 4. Run to the end.
  await runToEnd(page, /\[trapdemo\] done/);
  await stepDone(page);
  await expect(page.getByTestId('lesson-complete')).toBeVisible();

  await page.goto(link);
  await expect(page.getByTestId('lesson-step')).toHaveAttribute('data-step', '3');
  await expect(page.getByTestId('lesson-step').getByTestId('lesson-check').first()).toHaveAttribute(
    'data-ok',
    'yes',
    { timeout: 60_000 },
  );
});

/** The count on the trap log's chip for `kind` (as a student reads it). */
async function chip(page: Page, kind: string): Promise<string> {
  const c = page.getByTestId('kind-chips').locator('.chip', { hasText: new RegExp(`^${kind} `) });
  return ((await c.locator('b').textContent()) ?? '').trim();
}

async function pause(page: Page): Promise<void> {
  if ((await page.getByTestId('statusbar').getAttribute('data-running')) === 'yes') {
    await page.getByTestId('run-pause').click();
  }
  await expect(page.getByTestId('statusbar')).toHaveAttribute('data-running', 'no');
}

/** Type a shell command into VM 0's console, as a student does. */
async function typeCommand(page: Page, cmd: string): Promise<void> {
  await page.getByTestId('console-0').click();
  await page.keyboard.type(cmd);
  await page.keyboard.press('Enter');
}

const q0 = (page: Page) => page.getByTestId('lesson-step').getByTestId('lesson-question').first();

/**
 * Answer question `i` of the current step with what the machine shows, read the way a student
 * does: a wrong guess first (the verdict names the live value), then that value.
 */
async function answerFromState(page: Page, i: number): Promise<void> {
  const q = page.getByTestId('lesson-question').nth(i);
  await q.getByTestId('question-input').fill('0');
  await q.getByTestId('question-submit').click();
  const v = (await q.getByTestId('question-verdict').textContent()) ?? '';
  const m = /the machine shows (0x[0-9A-F]+|\d+)/.exec(v);
  if (!m) {
    await expect(q.getByTestId('question-verdict')).toContainText('Right');
    return;
  }
  await answer(q, m[1]);
}

test('lesson 1, what a hypervisor is: native, two VMs, the rings, then hosted (Type 2)', async ({ page }) => {
  test.setTimeout(150_000);
  await openLesson(page, 1);
  await runToEnd(page, /\[trapdemo\] done/);
  await stepDone(page);
  await expect(page.getByTestId('traps-empty-native')).toBeVisible();
  await answer(q0(page), '0');
  await next(page);
  await stepMachine(page);
  await page.getByTestId('run-pause').click();
  await expect.poll(() => consoleText(page, 1), { timeout: 90_000 }).toMatch(/\[trapdemo\] done/);
  await stepDone(page);
  await pause(page);
  await answer(q0(page), await chip(page, 'world switch'));
  await next(page);
  await page.getByTestId('reset').click();
  await expect(page.getByTestId('statusbar')).toHaveAttribute('data-instructions', '0');
  await page.getByTestId('step-trap').click();
  await expect(page.getByTestId('stop-reason')).toContainText('Stopped at', { timeout: 60_000 });
  await page.getByTestId('rings-tab').click();
  await stepDone(page);
  const ring = (await page.getByTestId('ring-real').getAttribute('data-ring')) ?? '';
  await answer(q0(page), ring);
  await next(page);
  // The hosted arrangement: minikernel boots first as the host OS; the guest's I/O goes through it.
  await stepMachine(page);
  await expect(page.getByTestId('hosting-select')).toHaveValue('type2');
  await page.getByTestId('run-pause').click();
  await expect.poll(() => consoleText(page), { timeout: 90_000 }).toMatch(/\[trapdemo\] done/);
  await stepDone(page);
  await pause(page);
  await answer(q0(page), await chip(page, 'host system call'));
  await expect(page.getByTestId('lesson-complete')).toBeVisible();
  await page.screenshot({ path: 'test-results/lessons-1-type2.png' });
});

test('lesson 3, the x86 hole: the silent POPF hangs minikernel; the PUSHF of Linux reads the IF of the VMM; Linux panics', async ({
  page,
}) => {
  test.setTimeout(180_000);
  await openLesson(page, 3);
  await until(page);
  await stepDone(page);
  await answer(q0(page), await detailField(page, 'VMM action'));
  await next(page);
  await page.getByTestId('run-pause').click();
  await stepDone(page);
  await answer(q0(page), await chip(page, 'silent event'));
  await next(page);
  await stepMachine(page);
  await until(page);
  await stepDone(page, 120_000);
  const summary = (await page.getByTestId('trap-summary').textContent()) ?? '';
  const got = /stored EFLAGS \S+ \(IF=(\d)/.exec(summary);
  expect(got).not.toBeNull();
  await answer(q0(page), got![1]);
  await next(page);
  // The same boot continues to the panic (the student's Run; no reload).
  const t0 = Date.now();
  await runToEnd(page, /Kernel panic - not syncing/);
  test.info().annotations.push({ type: 'linux-panic-ms', description: String(Date.now() - t0) });
  await stepDone(page);
  await pause(page);
  await answer(q0(page), /EAX: ([0-9a-f]{8})/.exec(await consoleText(page))![1]);
  await expect(page.getByTestId('lesson-complete')).toBeVisible();
});

test('lesson 4, binary translation: a unit, a callout, the TC; minikernel survives', async ({ page }) => {
  test.setTimeout(150_000);
  await openLesson(page, 4);
  await until(page);
  await stepDone(page);
  await expect(page.getByTestId('tc-view')).toBeVisible();
  await answer(q0(page), (await detailField(page, 'CS:EIP')).split(':')[1]);
  await next(page);
  await untilKind(page, 'callout');
  await until(page);
  await stepDone(page);
  await answer(q0(page), (await detailField(page, 'Instruction')).split(/\s/)[0]);
  await page.screenshot({ path: 'test-results/lessons-4-callout.png' });
  await next(page);
  await runToEnd(page, /\[trapdemo\] done/);
  await stepDone(page);
  await answerFromState(page, 0);
  await next(page);
  await stepMachine(page);
  await runToEnd(page, /mini\$/);
  await stepDone(page);
  await expect(page.getByTestId('lesson-complete')).toBeVisible();
});

test('lesson 5, paravirtualization: hypercalls, no privileged traps, events', async ({ page }) => {
  test.setTimeout(150_000);
  await openLesson(page, 5);
  await until(page);
  await stepDone(page);
  await answer(q0(page), await detailField(page, 'Reason'));
  await next(page);
  await runToEnd(page, /mini\$/);
  await stepDone(page);
  await answer(q0(page), 'true');
  await next(page);
  await stepDone(page);
  await pause(page);
  await answerFromState(page, 0);
  await expect(page.getByTestId('lesson-complete')).toBeVisible();
});

test('lesson 6, hardware assistance: an I/O exit in the VMCS, real ring 0, no privileged traps', async ({
  page,
}) => {
  test.setTimeout(120_000);
  await openLesson(page, 6);
  await page.getByTestId('step-trap').click();
  await expect(page.getByTestId('stop-reason')).toContainText('Stopped at', { timeout: 60_000 });
  await stepDone(page);
  const reason = (await page.getByTestId('vmcs-exit-reason').textContent()) ?? '';
  await answer(q0(page), reason.split(' ')[0]);
  await page.screenshot({ path: 'test-results/lessons-6-vmcs.png' });
  await next(page);
  await stepDone(page);
  await page.getByTestId('rings-tab').click();
  await answer(q0(page), (await page.getByTestId('ring-real').getAttribute('data-ring')) ?? '');
  await next(page);
  await runToEnd(page, /\[trapdemo\] done/);
  await stepDone(page);
  await expect(
    page.getByTestId('kind-chips').locator('.chip', { hasText: /^privileged instruction / }),
  ).toHaveCount(0);
  await answer(q0(page), '0');
  await expect(page.getByTestId('lesson-complete')).toBeVisible();
});

test('lesson 7, memory: shadow tables, direct paging, EPT, then the EPT/shadow switch', async ({ page }) => {
  test.setTimeout(180_000);
  await openLesson(page, 7);
  await page.getByTestId('run-pause').click();
  await stepDone(page);
  await answer(q0(page), await chip(page, 'hidden page fault'));
  await next(page);
  await stepMachine(page);
  await runToEnd(page, /mini\$/);
  await stepDone(page);
  await answer(q0(page), '0');
  await next(page);
  await stepMachine(page);
  await runToEnd(page, /mini\$/);
  await stepDone(page);
  await pause(page);
  const eptp =
    ((await page.getByTestId('vmcs-field-EPTP').textContent()) ?? '').match(/0x[0-9A-Fa-f]+/g) ?? [];
  expect(eptp.length).toBeGreaterThan(0);
  await answerFromState(page, 0);
  const eptExits = Number((await chip(page, 'VM exit')).replace(/\D/g, ''));
  await answer(page.getByTestId('lesson-step').getByTestId('lesson-question').nth(1), String(eptExits));
  await next(page);
  // The student flips the VMCS tab's paging switch: the same guest reloads without EPT.
  await page.getByTestId('vtx-paging-shadow').check();
  await expect(page.getByTestId('status-note')).toHaveText(LOADED, { timeout: 60_000 });
  expect(new URL(page.url()).searchParams.get('paging')).toBe('shadow');
  await page.getByTestId('step-trap').click();
  await expect(page.getByTestId('stop-reason')).toContainText('Stopped at', { timeout: 60_000 });
  await stepDone(page);
  await answer(q0(page), await detailField(page, 'VMM action'));
  await next(page);
  await runToEnd(page, /mini\$/);
  await stepDone(page);
  await pause(page);
  const shadowExits = Number((await chip(page, 'VM exit')).replace(/\D/g, ''));
  // The live counts differ the way the lesson says: shadow paging exits far more often.
  expect(shadowExits).toBeGreaterThan(eptExits);
  test.info().annotations.push({ type: 'vm-exits', description: `EPT ${eptExits}, shadow ${shadowExits}` });
  await answer(q0(page), String(shadowExits));
  await expect(page.getByTestId('lesson-complete')).toBeVisible();
});

test('lesson 8, what it costs: bench on the Pentium 4 natively, under BT, under VT-x; VT-x on a modern CPU', async ({
  page,
}) => {
  test.setTimeout(300_000);
  await openLesson(page, 8);
  await expect(page.getByTestId('cpu-model-select')).toHaveValue('p4');
  const bench = async (cmd: string, done: RegExp) => {
    await runToEnd(page, /mini\$/);
    await typeCommand(page, cmd);
    await expect.poll(() => consoleText(page), { timeout: 90_000 }).toMatch(done);
  };
  // The last bench's figure, read from the lines it printed (the screen may have scrolled past it).
  const inCycles = async () =>
    Number([...(await consoleLines(page)).matchAll(/^\s*in +([\d.]+) cycles\/op/gm)].at(-1)![1]);
  await bench('bench', /ptemod +[\d.]+ cycles\/op/);
  await stepDone(page);
  const native = await inCycles();
  await answer(q0(page), String(native));
  await next(page);
  await stepMachine(page);
  await bench('bench call/ret', /call\/ret +[\d.]+ cycles\/op/);
  await stepDone(page);
  await answer(
    q0(page),
    [...(await consoleLines(page)).matchAll(/call\/ret +([\d.]+) cycles\/op/g)].at(-1)![1],
  );
  await next(page);
  await stepMachine(page);
  await bench('bench in', /\n {2}in +[\d.]+ cycles\/op/);
  await stepDone(page);
  await pause(page);
  const p4 = await inCycles();
  await answer(q0(page), String(p4));
  // Adams and Agesen's finding, from the live guest: an exiting `in` costs several native ones.
  expect(p4).toBeGreaterThan(3 * native);
  await next(page);
  // Another generation: the toolbar's CPU picker reloads the same VT-x machine, as a student does it.
  await page.getByTestId('cpu-model-select').selectOption('modern');
  await expect(page.getByTestId('status-note')).toHaveText(LOADED, { timeout: 60_000 });
  expect(new URL(page.url()).searchParams.get('cpu')).toBe('modern');
  await expect(page.getByTestId('technique-select')).toHaveValue('hardware-assisted');
  await bench('bench in', /\n {2}in +[\d.]+ cycles\/op/);
  await stepDone(page);
  await pause(page);
  const modern = await inCycles();
  expect(modern).toBeLessThan(p4);
  test.info().annotations.push({
    type: 'in-cycles',
    description: `native ${native}, VT-x p4 ${p4}, VT-x modern ${modern}`,
  });
  await answer(q0(page), String(modern));
  await expect(page.getByTestId('lesson-complete')).toBeVisible();
  await page.screenshot({ path: 'test-results/lessons-8-modern.png' });
});

test('teacher mode: large type, one step per screen, the machine beside it; a broken link says so', async ({
  page,
}) => {
  await page.setViewportSize({ width: 1280, height: 720 });
  await page.goto('/?view=lessons&lesson=6&step=1&teacher=1');
  await expect(page.getByTestId('status-note')).toHaveText(LOADED, { timeout: 60_000 });
  await expect(page.locator('html')).toHaveAttribute('data-classroom', 'on');
  await expect(page.getByTestId('lesson-step')).toHaveCount(1);
  await expect(page.getByTestId('lesson-page')).toHaveClass(/teacher/);
  // The lesson text and the machine side by side, both on screen.
  const panel = (await page.getByTestId('lesson-panel').boundingBox())!;
  const app = (await page.getByTestId('app').boundingBox())!;
  expect(panel.x + panel.width).toBeLessThanOrEqual(app.x + 1);
  expect(app.x + app.width).toBeLessThanOrEqual(1281);
  await page.screenshot({ path: 'test-results/lessons-teacher.png' });
  await page.goto('/?view=lessons&lesson=99');
  await expect(page.getByTestId('lesson-missing')).toContainText('There is no lesson 99');
});
