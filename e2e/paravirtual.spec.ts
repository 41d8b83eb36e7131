import { expect, test } from './fixtures.ts';
import { consoleText } from './helpers.ts';

test('minikernel-pv under paravirtual: shell, shared info panel and hypercall histogram', async ({
  page,
}) => {
  await page.goto('/?guest=minikernel-pv&technique=paravirtual&vms=1');
  await expect(page.getByTestId('status-note')).toHaveText('Loaded — press Run', { timeout: 30_000 });
  await page.getByTestId('run-pause').click();
  await expect.poll(() => consoleText(page), { timeout: 30_000 }).toContain('mini$');
  await page.getByTestId('console-0').click();
  await page.keyboard.type('uptime');
  await page.keyboard.press('Enter');
  await expect.poll(() => consoleText(page), { timeout: 30_000 }).toMatch(/up \d+\.\d\d s/);
  await page.getByTestId('run-pause').click();
  await expect(page.getByTestId('status-note')).toHaveText('Paused', { timeout: 30_000 });
  await page.getByTestId('stats-tab').click();
  const info = page.getByTestId('pv-shared-info-0');
  await expect(info).toContainText('virtual IF');
  await expect(info).toContainText('port 1 VIRQ_TIMER');
  await expect(info).toContainText('direct trap');
  const hist = page.getByTestId('pv-hypercalls-0');
  await expect(hist).toContainText('18 console_io');
  await expect(hist).toContainText('26 mmuext_op');
  await page.screenshot({ path: 'test-results/paravirtual-stats.png', fullPage: true });

  // The Paging tab under direct paging: one walk through the guest's own (real) tables, each
  // table frame validated and typed by the hypervisor and mapped read-only, and the hole.
  await page.setViewportSize({ width: 1280, height: 720 });
  await page.getByTestId('paging-tab').click();
  const direct = page.getByTestId('pw-direct');
  await expect(direct).toBeVisible();
  await expect(page.getByTestId('pw-shadow')).toHaveCount(0);
  await expect(page.getByTestId('pw-PDE-frame')).toHaveAttribute('data-type', 'L2');
  await expect(page.getByTestId('pw-PTE-frame')).toHaveAttribute('data-type', 'L1');
  await expect(page.getByTestId('pw-PTE-frame')).toContainText('No writable mapping exists');
  // Wherever the guest maps its tables, the mapping is read-only (there is at least one).
  const maps = direct.locator('[data-rw]');
  expect(await maps.count()).toBeGreaterThan(0);
  await expect(direct.locator('[data-rw=yes]')).toHaveCount(0);
  await expect(page.getByTestId('pw-machine')).toContainText(/machine [0-9A-F]{8}/);
  await expect(page.getByTestId('pw-hole-slot')).toHaveText(/slot 1023/);
  await expect(page.getByTestId('pw-counts')).toContainText('pinned');
  await page.getByTestId('pw-PTE').scrollIntoViewIfNeeded();
  await page.screenshot({ path: 'test-results/paravirtual-paging.png' });
  // An address in the hypervisor's hole: the walk says so and ends in the hypervisor's own table.
  await page.getByTestId('pw-addr').fill('FFC00000');
  await expect(page.getByTestId('pw-hole')).toContainText('This address is inside it');
  await expect(page.getByTestId('pw-PTE-frame')).toHaveAttribute('data-type', 'hypervisor');
});
