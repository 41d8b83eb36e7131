/**
 * The main views under a VMM, in both themes and classroom mode, with screenshots to look at:
 * the virtual CPU from the first snapshot, the per-VM table, the memory map in physical mode.
 */
import { expect, test } from './fixtures.ts';
import { consoleText } from './helpers.ts';

test('under trap-and-emulate the virtual CPU column is there from the moment the guest loads', async ({
  page,
}) => {
  await page.goto('/?guest=trapdemo&technique=trap-and-emulate&vms=1');
  await expect(page.getByTestId('status-note')).toHaveText('Loaded — press Run', { timeout: 30_000 });
  const head = page.locator('.reg-table thead');
  await expect(head).toContainText('VM 0 virtual CPU');
  // Ring compression is visible before anything ran: real ring 1, virtual ring 0.
  const cpl = page.locator('.reg-table tr', { has: page.locator('th', { hasText: /^CPL$/ }) });
  await expect(cpl.locator('td').first()).toContainText('ring 1');
  await expect(cpl.locator('td').nth(1)).toContainText('ring 0');
  await page.screenshot({ path: 'test-results/view-tae-loaded.png' });
});

test('two VMs: per-VM counters in Stats, each VM’s memory map in physical mode', async ({ page }) => {
  await page.goto('/?guest=hello&technique=trap-and-emulate&vms=2');
  await expect(page.getByTestId('status-note')).toHaveText('Loaded — press Run', { timeout: 30_000 });
  await page.getByTestId('run-pause').click();
  await expect.poll(() => consoleText(page, 1)).toContain('Hello from TrapLab!');
  await expect(page.getByTestId('status-note')).toContainText('exited');

  await page.getByTestId('stats-tab').click();
  const table = page.getByTestId('vm-table');
  await expect(table.locator('tbody tr')).toHaveCount(2);
  await expect(table.locator('tbody tr').first()).toContainText(/\d MiB/);
  // Both VMs did port I/O through the VMM: their switch counts are not zero.
  const switches = await table.locator('tbody tr td:nth-child(9)').allTextContents();
  expect(switches.map(Number).every((n) => n > 0)).toBe(true);
  await page.screenshot({ path: 'test-results/view-stats-two-vms.png' });

  await page.getByRole('tab', { name: /Code/ }).click();
  await page.getByTestId('mem-space').selectOption('physical');
  const map = page.getByTestId('memmap');
  await expect(map).toContainText('Guest-physical addresses of VM');
  const first = map.locator('li').first();
  await expect(first).toContainText(/^00000000–[0-9A-F]{8} → host [0-9A-F]{8}/);
  // The guest's address 0 lives elsewhere in host RAM.
  await expect(first).not.toContainText('host 00000000');
  await page.screenshot({ path: 'test-results/view-memmap.png' });
});

test('light theme and classroom mode on the trap detail', async ({ page }) => {
  await page.goto('/?guest=trapdemo&technique=trap-and-emulate&vms=1');
  await expect(page.getByTestId('status-note')).toHaveText('Loaded — press Run', { timeout: 30_000 });
  for (let i = 0; i < 5; i++) {
    await page.getByTestId('step-trap').click();
    await expect(page).toHaveURL(new RegExp(`[?&]at=t${i + 1}(&|$)`));
  }
  const theme = await page.evaluate(() => document.documentElement.dataset.theme);
  await page.locator('body').press('d');
  await expect.poll(() => page.evaluate(() => document.documentElement.dataset.theme)).not.toBe(theme);
  await expect(page.getByTestId('trap-regs')).toBeVisible();
  await page.screenshot({ path: 'test-results/view-detail-theme.png' });
  await page.locator('body').press('c');
  await expect.poll(() => page.evaluate(() => document.documentElement.dataset.classroom)).toBe('on');
  await page.screenshot({ path: 'test-results/view-detail-classroom.png' });
  // A projector is usually full HD.
  await page.setViewportSize({ width: 1920, height: 1080 });
  await page.screenshot({ path: 'test-results/view-detail-classroom-1080p.png' });
});
