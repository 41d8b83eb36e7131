import { expect, test } from './fixtures.ts';
import { consoleText } from './helpers.ts';

test('boots Linux to the BusyBox prompt and runs a command typed into xterm', async ({ page }) => {
  test.setTimeout(240_000);
  await page.goto('/?guest=linux&technique=native&vms=1');
  await expect(page.getByTestId('status-note')).toHaveText('Loaded — press Run', { timeout: 30_000 });
  await page.getByTestId('run-pause').click();
  await expect.poll(() => consoleText(page), { timeout: 200_000, intervals: [1000] }).toContain('guest# ');
  await expect.poll(() => consoleText(page));
  await page.getByTestId('console-0').click();
  await page.keyboard.type('echo $((6*7)) answers');
  await page.keyboard.press('Enter');
  await expect.poll(() => consoleText(page), { timeout: 60_000 }).toMatch(/\n42 answers/);
  // BusyBox's ash asks for the cursor position (ESC[6n) after each prompt; xterm answers through
  // onData and the reply goes to the UART unchanged, so no stray "ESC[row;colR" text shows up.
  expect(await consoleText(page)).not.toMatch(/\[\d+;\d+R|\^\[/);
  await page.screenshot({ path: 'test-results/linux-prompt.png' });
});
