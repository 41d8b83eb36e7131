import { expect, test } from './fixtures.ts';
import { consoleText, EXITED_OK, statusNote } from './helpers.ts';

test('boots hello under native and shows its greeting in the console', async ({ page }) => {
  await page.goto('/?guest=hello&technique=native&vms=1');
  await expect(page.getByTestId('status-note')).toHaveText('Loaded — press Run');
  // Registers of the loaded guest: EIP at the multiboot entry, EAX holds the multiboot magic.
  await expect(page.getByTestId('registers')).toContainText('2BADB002');
  await page.getByTestId('run-pause').click();
  await expect
    .poll(() => consoleText(page))
    .toContain('Hello from TrapLab! This guest runs in 32-bit protected mode.');
  await expect(page.getByTestId('status-note')).toHaveText(EXITED_OK);
  // The trap log explains why it is empty under native.
  await expect(page.getByTestId('traps-empty-native')).toBeVisible();
  await page.screenshot({ path: 'test-results/hello-native.png' });

  // Reset clears the console and starts over; stepping moves EIP and highlights what changed.
  await page.getByTestId('reset').click();
  await expect(page.getByTestId('status-note')).toHaveText('Loaded — press Run');
  await expect.poll(() => consoleText(page)).not.toContain('Hello');
  await page.getByTestId('step').click();
  await expect(page.getByTestId('status-note')).toHaveText('Stepped one instruction');
  await expect(page.locator('.reg-table .changed').first()).toBeVisible();
  await page.getByTestId('step').click();
  await expect(page.locator('.dline.current')).toHaveCount(1);
  await page.screenshot({ path: 'test-results/hello-stepped.png' });
  expect(await statusNote(page)).toBe('Stepped one instruction');
});

test('keyboard shortcuts: Space runs, ? opens the help overlay, D switches theme', async ({ page }) => {
  await page.goto('/?guest=hello&technique=native&vms=1');
  await expect(page.getByTestId('status-note')).toHaveText('Loaded — press Run');
  await page.locator('body').press('?');
  await expect(page.getByTestId('help-overlay')).toBeVisible();
  await page.screenshot({ path: 'test-results/help.png' });
  await page.keyboard.press('Escape');
  await expect(page.getByTestId('help-overlay')).toHaveCount(0);
  const before = await page.evaluate(() => document.documentElement.dataset.theme);
  await page.locator('body').press('d');
  await expect.poll(() => page.evaluate(() => document.documentElement.dataset.theme)).not.toBe(before);
  await page.locator('body').press(' ');
  await expect.poll(() => consoleText(page)).toContain('Hello from TrapLab!');
  await page.screenshot({ path: 'test-results/hello-other-theme.png' });
});

test('slow motion: at 10 instructions a second the class can watch EIP move', async ({ page }) => {
  await page.goto('/?guest=hello&technique=native&vms=1');
  await expect(page.getByTestId('status-note')).toHaveText('Loaded — press Run');
  await page.getByTestId('speed').selectOption('10');
  await page.getByTestId('run-pause').click();
  const instr = async () => Number(await page.getByTestId('statusbar').getAttribute('data-instructions'));
  // Registers follow every instruction in slow motion: wait for a few to retire, one by one.
  await expect.poll(instr, { timeout: 15_000 }).toBeGreaterThanOrEqual(3);
  await expect(page.locator('.reg-table .changed').first()).toBeVisible();
  await page.getByTestId('run-pause').click();
  await expect(page.getByTestId('status-note')).toHaveText('Paused');
  // hello needs 648 instructions: at 10 a second it is nowhere near done.
  expect(await instr()).toBeLessThan(300);
  await expect(page.locator('.pill', { hasText: 'instr/s' })).toHaveText('10 instr/s');
});

test('after two resets the guest runs again on the recycled machine buffers and greets again', async ({
  page,
}) => {
  // Each Reset creates a new session and disposes of the previous one (worker/core.ts); from the
  // third session on, the machine's RAM, TLB and block cache are the first one's, zeroed.
  await page.goto('/?guest=hello&technique=native&vms=1');
  await expect(page.getByTestId('status-note')).toHaveText('Loaded — press Run');
  await page.getByTestId('run-pause').click();
  await expect(page.getByTestId('status-note')).toHaveText(EXITED_OK);
  for (let i = 0; i < 2; i++) {
    await page.getByTestId('reset').click();
    await expect(page.getByTestId('status-note')).toHaveText('Loaded — press Run');
  }
  await expect.poll(() => consoleText(page)).not.toContain('Hello');
  await page.getByTestId('run-pause').click();
  await expect
    .poll(() => consoleText(page))
    .toContain('Hello from TrapLab! This guest runs in 32-bit protected mode.');
  await expect(page.getByTestId('status-note')).toHaveText(EXITED_OK);
});
