import { expect, test } from './fixtures.ts';
import { consoleText } from './helpers.ts';

test('minikernel-pv under paravirtual: shell, shared info panel and hypercall histogram', async ({
  page,
}) => {
  await page.goto('/?guest=minikernel-pv&technique=paravirtual&vms=1');
  await expect(page.getByTestId('status-note')).toHaveText('Loaded — press Run');
  await page.getByTestId('run-pause').click();
  await expect.poll(() => consoleText(page), { timeout: 30_000 }).toContain('mini$');
  await page.getByTestId('console-0').click();
  await page.keyboard.type('uptime');
  await page.keyboard.press('Enter');
  await expect.poll(() => consoleText(page)).toMatch(/up \d+\.\d\d s/);
  await page.getByTestId('run-pause').click();
  await expect(page.getByTestId('status-note')).toHaveText('Paused');
  await page.getByTestId('stats-tab').click();
  const info = page.getByTestId('pv-shared-info-0');
  await expect(info).toContainText('virtual IF');
  await expect(info).toContainText('port 1 VIRQ_TIMER');
  await expect(info).toContainText('direct trap');
  const hist = page.getByTestId('pv-hypercalls-0');
  await expect(hist).toContainText('18 console_io');
  await expect(hist).toContainText('26 mmuext_op');
  await page.screenshot({ path: 'test-results/paravirtual-stats.png', fullPage: true });
});
