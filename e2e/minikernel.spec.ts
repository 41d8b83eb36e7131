import { expect, test } from './fixtures.ts';
import { consoleText } from './helpers.ts';

const instructions = async (page: import('@playwright/test').Page) =>
  Number(await page.getByTestId('statusbar').getAttribute('data-instructions'));

test('typing in the console reaches the guest UART, and pause stops the guest', async ({ page }) => {
  await page.goto('/?guest=minikernel&technique=native&vms=1');
  await expect(page.getByTestId('status-note')).toHaveText('Loaded — press Run');
  await page.getByTestId('run-pause').click();
  await expect.poll(() => consoleText(page), { timeout: 30_000 }).toContain('mini$');

  // Keys typed into xterm go to COM1 of VM 0; the guest's shell answers.
  await page.getByTestId('console-0').click();
  await page.keyboard.type('help');
  await page.keyboard.press('Enter');
  await expect.poll(() => consoleText(page)).toMatch(/mini\$ help\s*\n.*\S/);

  // Pause: measure how long until the page shows the worker stopped (reported, not asserted).
  const latency = await page.evaluate(async () => {
    const bar = document.querySelector('[data-testid=statusbar]')!;
    const btn = document.querySelector<HTMLButtonElement>('[data-testid=run-pause]')!;
    const done = new Promise<number>((resolve) => {
      const mo = new MutationObserver(() => {
        if (bar.getAttribute('data-running') === 'no') {
          mo.disconnect();
          resolve(performance.now());
        }
      });
      mo.observe(bar, { attributes: true, attributeFilter: ['data-running'] });
    });
    const t0 = performance.now();
    btn.click();
    return (await done) - t0;
  });
  test.info().annotations.push({
    type: 'pause latency (ms, incl. one animation frame)',
    description: latency.toFixed(1),
  });
  console.log(`pause latency: ${latency.toFixed(1)} ms`);
  await expect(page.getByTestId('status-note')).toHaveText('Paused');
  const a = await instructions(page);
  await page.waitForTimeout(400);
  expect(await instructions(page)).toBe(a);
  // The console keeps its text; the registers show a snapshot at the pause point.
  expect(await consoleText(page)).toContain('mini$ help');
  await page.getByTestId('stats-tab').click();
  await expect(page.getByTestId('stat-instructions')).not.toHaveText('0');
  await page.screenshot({ path: 'test-results/minikernel-paused.png' });
});
