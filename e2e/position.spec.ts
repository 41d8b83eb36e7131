/**
 * The run position in the URL: emulation is deterministic, so a link that carries what was done
 * since the guest started (here: five "Next trap" steps) replays to exactly the same point.
 */
import { expect, test } from './fixtures.ts';
import { consoleText, EXITED_OK, LINUX_SHELL_READY } from './helpers.ts';

test('a link to the 5th trap of trapdemo reproduces the registers and the selected trap', async ({
  page,
  context,
  pageErrors,
}) => {
  test.setTimeout(120_000);
  await page.goto('/?guest=trapdemo&technique=trap-and-emulate&vms=1');
  await expect(page.getByTestId('status-note')).toHaveText('Loaded — press Run', { timeout: 30_000 });
  for (let i = 1; i <= 5; i++) {
    await page.getByTestId('step-trap').click();
    await expect(page).toHaveURL(new RegExp(`[?&]at=t${i}(&|$)`));
  }
  await expect(page.getByTestId('status-note')).toContainText('Stopped at trap:');
  await expect(page).toHaveURL(/[?&]sel=\d+(&|$)/);

  // The trap reached is selected; its detail shows real registers right before and after it.
  const detail = page.getByTestId('trap-detail');
  await expect(detail).toBeVisible();
  await expect(page.getByTestId('trap-regs-note')).toContainText('right before the trapping instruction');
  const diff = page.getByTestId('trap-regdiff').last();
  await expect(diff).toContainText('EIP');
  await expect(diff.locator('td.changed').first()).toBeVisible();
  await page.screenshot({ path: 'test-results/position-5th-trap.png' });

  const regs = await page.getByTestId('registers').textContent();
  const selected = await page.locator('.trow.selected .c-idx').textContent();
  const fields = await detail.locator('.fields').textContent();
  const instr = await page.getByTestId('statusbar').getAttribute('data-instructions');

  await context.grantPermissions(['clipboard-read', 'clipboard-write']);
  await page.getByTestId('share').click();
  await expect(page.getByTestId('toast')).toContainText('replays the run to this point');
  const link = await page.evaluate(() => navigator.clipboard.readText());
  expect(link).toBe(page.url());
  expect(link).toMatch(/[?&]at=t5(&|$)/);

  // A fresh page (new worker, new session) replays the link.
  const other = await context.newPage();
  other.on('pageerror', (e) => pageErrors.push(`second page: ${e.message}`));
  await other.goto(link);
  await expect(other.getByTestId('status-note')).toHaveText(
    /^Stopped at trap: .* \(replayed from the link\)$/,
    { timeout: 30_000 },
  );
  await expect(other.getByTestId('statusbar')).toHaveAttribute('data-instructions', instr!);
  await expect(other.locator('.trow.selected .c-idx')).toHaveText(selected!);
  expect(await other.getByTestId('registers').textContent()).toBe(regs);
  await expect.poll(() => other.getByTestId('trap-detail').locator('.fields').textContent()).toBe(fields);
  await expect(other.getByTestId('trap-regs-note')).toContainText('right before the trapping instruction');
  expect(other.url()).toBe(link);
  await other.screenshot({ path: 'test-results/position-replayed.png' });
});

test('a record not stepped to says honestly that it carries no register values', async ({ page }) => {
  await page.goto('/?guest=trapdemo&technique=trap-and-emulate&vms=1');
  await expect(page.getByTestId('status-note')).toHaveText('Loaded — press Run', { timeout: 30_000 });
  await page.getByTestId('run-pause').click();
  await expect(page.getByTestId('status-note')).toContainText('exited', { timeout: 60_000 });
  // The URL records where the run ended; reset forgets it.
  await expect(page).toHaveURL(/[?&]at=c[0-9a-z_]+(&|$)/);
  await page.getByTestId('trap-row').last().click();
  await expect(page.getByTestId('trap-regs-note')).toContainText(
    'kept only for a trap reached with Next trap',
  );
  await page.getByTestId('reset').click();
  await expect(page.getByTestId('status-note')).toHaveText('Loaded — press Run');
  await expect(page).not.toHaveURL(/[?&]at=/);
});

test('typed input is part of the link: minikernel’s shell answers the same way after a replay', async ({
  page,
  context,
}) => {
  test.setTimeout(120_000);
  await page.goto('/?guest=minikernel&technique=native&vms=1');
  await expect(page.getByTestId('status-note')).toHaveText('Loaded — press Run');
  await page.getByTestId('run-pause').click();
  await expect.poll(() => consoleText(page), { timeout: 30_000 }).toContain('mini$');
  await page.getByTestId('console-0').click();
  await page.keyboard.type('help');
  await page.keyboard.press('Enter');
  await expect.poll(() => consoleText(page)).toMatch(/mini\$ help\s*\n.*\S/);
  await page.keyboard.press('Escape');
  await page.getByTestId('run-pause').click();
  await expect(page.getByTestId('status-note')).toHaveText('Paused');
  // The link records the keys with the virtual time they arrived at.
  await expect(page).toHaveURL(/[?&]at=c[0-9a-z_]+\..*i0/);
  const link = page.url();
  const text = await consoleText(page);
  const instr = await page.getByTestId('statusbar').getAttribute('data-instructions');

  const other = await context.newPage();
  await other.goto(link);
  await expect(other.getByTestId('status-note')).toHaveText('At the linked run position', {
    timeout: 60_000,
  });
  await expect(other.getByTestId('statusbar')).toHaveAttribute('data-instructions', instr!);
  await expect.poll(() => consoleText(other)).toBe(text);
  expect(other.url()).toBe(link);
});

test('Linux: a link after typing a command replays boot, input and the terminal’s cursor reports', async ({
  page,
  context,
}) => {
  test.setTimeout(180_000);
  await page.goto('/?guest=linux&technique=native&vms=1');
  await expect(page.getByTestId('status-note')).toHaveText('Loaded — press Run', { timeout: 30_000 });
  await page.getByTestId('run-pause').click();
  // Wait on what the console really shows (xterm drops the blank after `guest# `).
  await expect
    .poll(() => consoleText(page), { timeout: 120_000, intervals: [250] })
    .toMatch(LINUX_SHELL_READY);
  await page.getByTestId('console-0').click();
  await page.keyboard.type('echo $((6*7)) answers');
  await page.keyboard.press('Enter');
  await expect.poll(() => consoleText(page), { timeout: 60_000 }).toMatch(/^42 answers\nguest#/m);
  await page.keyboard.press('Escape');
  await page.getByTestId('run-pause').click();
  await expect(page.getByTestId('status-note')).toHaveText('Paused');
  const link = page.url();
  expect(link).toMatch(/[?&]at=/);
  const text = await consoleText(page);
  const instr = await page.getByTestId('statusbar').getAttribute('data-instructions');

  const other = await context.newPage();
  await other.goto(link);
  await expect(other.getByTestId('status-note')).toHaveText('At the linked run position', {
    timeout: 200_000,
  });
  await expect(other.getByTestId('statusbar')).toHaveAttribute('data-instructions', instr!);
  await expect.poll(() => consoleText(other)).toBe(text);
  // Nothing extra reached the guest after the replay (a duplicate cursor report would show up as
  // stray input at the prompt).
  await other.waitForTimeout(500);
  await other.getByTestId('run-pause').click();
  await other.waitForTimeout(500);
  await other.getByTestId('run-pause').click();
  await expect(other.getByTestId('status-note')).toHaveText('Paused');
  // The prompt is still empty: no stray input. The kernel's one late line ("random: crng init
  // done", ~250 virtual seconds in) is the only thing that may have been printed since.
  const after = await consoleText(other);
  expect(after.trimEnd()).toMatch(/\n42 answers\nguest#(?: random: crng init done)?$/);
  if (!after.includes('crng init done')) expect(after).toBe(text);
  await other.screenshot({ path: 'test-results/position-linux-replayed.png' });
});

test('a link to an early trap of a long log scrolls the table to it', async ({ page }) => {
  await page.goto('/?guest=trapdemo&technique=trap-and-emulate&vms=1');
  await expect(page.getByTestId('status-note')).toHaveText('Loaded — press Run', { timeout: 30_000 });
  await page.getByTestId('run-pause').click();
  await expect(page.getByTestId('status-note')).toContainText('exited', { timeout: 60_000 });
  await expect(page).toHaveURL(/[?&]at=c[0-9a-z_]+(&|$)/);
  const link = `${page.url()}&sel=10`;
  await page.goto(link);
  // The link's run ends where the guest did.
  await expect(page.getByTestId('status-note')).toHaveText(`${EXITED_OK} (replayed from the link)`, {
    timeout: 60_000,
  });
  await expect(page.locator('.trow.selected .c-idx')).toHaveText('10');
  await expect(page.locator('.trow.selected')).toBeInViewport();
  await expect(page.getByTestId('follow')).not.toBeChecked();
  await expect(page.getByTestId('trap-detail')).toContainText('record 10');
  await page.screenshot({ path: 'test-results/position-early-trap.png' });
});
