/**
 * What a teacher preparing a class tripped over (issue 11), each checked in the real page: the
 * stop reason where a class reads it, Until selecting its record, stepping past noise, native
 * without trap stepping, the classroom toggle, the exit pill, a panicking kernel, leaving a
 * console by keyboard, the URL, and the 1280×720 projector layout.
 */
import type { Page } from '@playwright/test';
import { expect, test } from './fixtures.ts';
import { consoleText } from './helpers.ts';

async function load(page: Page, url: string): Promise<void> {
  await page.goto(url);
  await expect(page.getByTestId('status-note')).toHaveText('Loaded — press Run', { timeout: 60_000 });
}

/** True when the element's text is shown in full (not cut off with an ellipsis or clipped). */
const notTruncated = (page: Page, testId: string) =>
  page.getByTestId(testId).evaluate((el) => el.scrollWidth <= el.clientWidth + 1);

test('Until <kind> selects the record it stopped at, with registers, and names that record', async ({
  page,
}) => {
  await page.setViewportSize({ width: 1280, height: 720 });
  await load(page, '/?guest=trapdemo&technique=trap-and-emulate&vms=1');
  await page.getByTestId('until-kind').selectOption({ label: 'control register' });
  await page.getByTestId('run-until').click();
  const reason = page.getByTestId('stop-reason');
  await expect(reason).toHaveText(/^Stopped at control register \(record \d+\)$/, { timeout: 60_000 });
  expect(await notTruncated(page, 'stop-reason')).toBe(true);
  const first = Number(/record (\d+)/.exec((await reason.textContent()) ?? '')![1]);
  // The record is selected, its detail open, with the registers before and after it.
  await expect(page.locator('.trow.selected .c-idx')).toHaveText(String(first));
  await expect(page.locator('.trow.selected .c-kind')).toHaveText('control register');
  await expect(page.getByTestId('trap-regdiff').first()).toBeVisible();
  await expect(page.getByTestId('trap-regs-note')).not.toContainText('kept only for a trap reached');

  // The next Until names its own record, not "the first".
  await page.getByTestId('run-until').click();
  await expect(reason).not.toHaveText(`Stopped at control register (record ${first})`, { timeout: 60_000 });
  await expect(reason).toHaveText(/^Stopped at control register \(record \d+\)$/);
  const second = Number(/record (\d+)/.exec((await reason.textContent()) ?? '')![1]);
  expect(second).toBeGreaterThan(first);
  await expect(page.locator('.trow.selected .c-idx')).toHaveText(String(second));

  // The wide detail gives the explanation room: no "read more" clamp.
  await page.getByTestId('detail-wide').click();
  await expect(page.locator('.trap-detail .explanation')).not.toHaveClass(/clamped/);
  await page.screenshot({ path: 'test-results/teacher-until-1280.png' });
});

test('Next trap can skip noisy kinds; the skipped records stay in the log', async ({ page }) => {
  await load(page, '/?guest=trapdemo&technique=trap-and-emulate&vms=1');
  // Run to the end once to learn the kinds, then start again.
  await page.getByTestId('run-pause').click();
  await expect(page.getByTestId('stop-reason')).toContainText('exited', { timeout: 60_000 });
  await page.getByTestId('reset').click();
  await expect(page.getByTestId('statusbar')).toHaveAttribute('data-instructions', '0');

  await page.getByTestId('skip-kinds').click();
  const menu = page.getByTestId('skip-menu');
  await menu.getByLabel('port I/O').check();
  await menu.getByLabel('hidden page fault').check();
  await menu.getByRole('button', { name: 'Done' }).click();
  await expect(page.getByTestId('skip-kinds')).toHaveText('Skipping 2');
  for (let i = 0; i < 4; i++) {
    await page.getByTestId('step-trap').click();
    await expect(page.getByTestId('stop-reason')).toContainText('skipping the kinds you chose', {
      timeout: 60_000,
    });
    const kind = await page.locator('.trow.selected .c-kind').textContent();
    expect(['port I/O', 'hidden page fault']).not.toContain(kind);
  }
  // trapdemo programs the UART before its fourth non-I/O trap: those records are logged all the same.
  await expect(page.getByTestId('kind-chips').locator('.chip', { hasText: 'port I/O' })).toBeVisible();
});

test('under native, Next trap and Until are disabled and say why', async ({ page }) => {
  await load(page, '/?guest=hello&technique=native&vms=1');
  await expect(page.getByTestId('step-trap')).toBeDisabled();
  await expect(page.getByTestId('run-until')).toBeDisabled();
  await expect(page.getByTestId('step-trap')).toHaveAttribute('title', /no VMM/);
  await expect(page.getByTestId('step')).toBeEnabled();
});

test('the exit pill says what the guest reported, and the reason is shown in full', async ({ page }) => {
  await page.setViewportSize({ width: 1280, height: 720 });
  await load(page, '/?guest=hello&technique=native&vms=1');
  await page.getByTestId('run-pause').click();
  await expect(page.getByTestId('exit-pill')).toHaveText(
    'the guest reported success (it wrote 0 to port 0xF4)',
  );
  await expect(page.getByTestId('exit-pill')).not.toContainText('exit code');
  await expect(page.getByTestId('stop-reason')).toContainText('The guest has exited');
  await expect(page.getByTestId('stop-reason')).toContainText('reported success');
  expect(await notTruncated(page, 'stop-reason')).toBe(true);
});

test('a silent POPF/PUSHF record shows the student sentence, not raw detail values', async ({ page }) => {
  await load(page, '/?guest=minikernel&technique=trap-and-emulate&vms=1');
  await page.getByTestId('until-kind').selectOption({ label: 'silent event' });
  await page.getByTestId('run-until').click();
  await expect(page.getByTestId('stop-reason')).toContainText('Stopped at silent event', { timeout: 60_000 });
  const summary = page.getByTestId('trap-summary');
  await expect(summary).toBeVisible();
  await expect(summary).toHaveText(/^(PUSHF|POPF) .*(IF=|flags)/);
  await expect(summary).not.toContainText('Details 0x');
});

test('classroom mode keeps the trap rows in view when the rows grow', async ({ page }) => {
  await load(page, '/?guest=trapdemo&technique=trap-and-emulate&vms=1');
  await page.getByTestId('run-pause').click();
  await expect(page.getByTestId('stop-reason')).toContainText('exited', { timeout: 60_000 });
  const scroll = page.getByTestId('trap-scroll');
  const rowsInView = () =>
    scroll.evaluate((el) => {
      const box = el.getBoundingClientRect();
      return Array.from(el.querySelectorAll('[data-testid=trap-row]')).filter((r) => {
        const b = r.getBoundingClientRect();
        return b.bottom > box.top + 4 && b.top < box.bottom - 4;
      }).length;
    });
  await expect.poll(rowsInView).toBeGreaterThan(1);
  for (const _ of [1, 2]) {
    await page.locator('body').press('c');
    await expect.poll(rowsInView).toBeGreaterThan(1);
  }
  // Scrolled away from the tail too: the same rows stay in view.
  await page.locator('body').press('c');
  await scroll.evaluate((el) => {
    el.scrollTop = el.scrollHeight / 2;
  });
  await expect.poll(rowsInView).toBeGreaterThan(1);
  const top = await page.getByTestId('trap-row').first().locator('.c-idx').textContent();
  await page.locator('body').press('c');
  await expect.poll(rowsInView).toBeGreaterThan(1);
  const after = Number(await page.getByTestId('trap-row').first().locator('.c-idx').textContent());
  expect(Math.abs(after - Number(top))).toBeLessThan(15);
});

test('Esc and Shift+Tab leave a console without sending anything to the guest', async ({ page }) => {
  await load(page, '/?guest=minikernel&technique=native&vms=1');
  await page.getByTestId('run-pause').click();
  await expect.poll(() => consoleText(page), { timeout: 60_000 }).toContain('mini$');
  await page.getByTestId('console-0').click();
  const inConsole = () => page.evaluate(() => !!document.activeElement?.closest('.xterm'));
  expect(await inConsole()).toBe(true);
  await page.keyboard.press('Escape');
  expect(await inConsole()).toBe(false);
  await page.getByTestId('console-0').click();
  await page.keyboard.press('Shift+Tab');
  expect(await inConsole()).toBe(false);
  // Nothing was typed into the guest: pause, and the link's journal holds no input token.
  await page.getByTestId('run-pause').click();
  await expect(page.getByTestId('statusbar')).toHaveAttribute('data-running', 'no');
  const at = new URL(page.url()).searchParams.get('at') ?? '';
  expect(at).not.toMatch(/(^|\.)i/);
});

test('the URL follows a running guest, and an uploaded guest drops the built-in one', async ({ page }) => {
  await load(page, '/?guest=minikernel&technique=native&vms=1');
  await page.getByTestId('run-pause').click();
  await expect(page.getByTestId('statusbar')).toHaveAttribute('data-running', 'yes');
  // Still running: the link already carries how far the run got.
  await expect
    .poll(() => new URL(page.url()).searchParams.get('at') ?? '', { timeout: 30_000 })
    .toMatch(/^c/);
  expect(await page.getByTestId('statusbar').getAttribute('data-running')).toBe('yes');

  await page.getByTestId('open-file').click();
  await page.getByTestId('load-file').setInputFiles('guests/hello/hello.elf');
  await page.getByTestId('load-submit').click();
  await expect(page.getByTestId('load-dialog')).toHaveCount(0);
  await expect.poll(() => new URL(page.url()).searchParams.has('guest')).toBe(false);
  expect(new URL(page.url()).searchParams.has('at')).toBe(false);
  expect(new URL(page.url()).searchParams.get('technique')).toBe('native');
});

test('Linux under trap-and-emulate: the panic is shown while the CPU still runs', async ({ page }) => {
  test.setTimeout(300_000);
  await load(page, '/?guest=linux&technique=trap-and-emulate&vms=1');
  await page.getByTestId('run-pause').click();
  const reason = page.getByTestId('stop-reason');
  await expect(reason).toContainText('The guest kernel panicked:', { timeout: 280_000 });
  expect(await consoleText(page)).toContain('Kernel panic - not syncing');
  await expect(page.getByTestId('status-note')).not.toHaveText(/^Running…?$/);
  await page.screenshot({ path: 'test-results/teacher-linux-panic.png' });
});

test('at 1280×720: description visible, guest title readable, four consoles with the running VM marked', async ({
  page,
}) => {
  await page.setViewportSize({ width: 1280, height: 720 });
  await load(page, '/?guest=trapdemo&technique=trap-and-emulate&vms=4');
  const desc = page.getByTestId('guest-description');
  await expect(desc).toBeVisible();
  expect((await desc.boundingBox())!.height).toBeGreaterThan(10);
  // The guest picker shows its title: at least "trapdemo: every trap kind".
  const selectW = await page.getByTestId('guest-select').evaluate((el) => el.clientWidth);
  const titleW = await page.evaluate(() => {
    const c = document.createElement('canvas').getContext('2d')!;
    c.font = getComputedStyle(document.querySelector('[data-testid=guest-select]')!).font;
    return c.measureText('trapdemo: every trap kind').width;
  });
  expect(selectW).toBeGreaterThan(titleW + 20);
  await page.getByTestId('step-trap').click();
  await expect(page.getByTestId('stop-reason')).toContainText('Stopped at trap');
  await expect(page.locator('.console[data-on-cpu]')).toHaveCount(1);
  await expect(page.locator('.console[data-on-cpu] .console-label')).toContainText('on the CPU');
  // One console enlarged: many more rows than a quarter tile.
  const rows = (vm: number) =>
    page
      .getByTestId(`console-${vm}`)
      .evaluate((el) => (el as HTMLElement & { traplabRows: () => number }).traplabRows());
  const tiled = await rows(0);
  await page.getByTestId('console-solo-0').click();
  await expect.poll(() => rows(0)).toBeGreaterThan(tiled + 4);
  await page.screenshot({ path: 'test-results/teacher-1280-4vms.png' });
});
