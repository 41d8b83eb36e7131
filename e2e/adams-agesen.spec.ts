/**
 * The Adams & Agesen page (?view=adams-agesen): the uPlot chart and the table, the paper's
 * findings checked, and the CPU-model picker switching both to another preset's runs.
 */
import { expect, test } from './fixtures.ts';

test('the A&A page shows the chart, the table beside the paper, and switches CPU models', async ({
  page,
}) => {
  await page.setViewportSize({ width: 1280, height: 720 });
  await page.goto('/?view=adams-agesen');
  await expect(page.getByRole('heading', { name: /Adams & Agesen/ })).toBeVisible({ timeout: 30_000 });

  // uPlot drew into a canvas of real size.
  const canvas = page.getByTestId('aa-chart').locator('canvas');
  await expect(canvas).toBeVisible();
  const box = await canvas.boundingBox();
  expect(box?.width ?? 0).toBeGreaterThan(400);
  expect(box?.height ?? 0).toBeGreaterThan(200);

  // The table: seven benchmarks, our techniques beside the paper's columns.
  const table = page.getByTestId('aa-table');
  await expect(table.locator('tbody tr')).toHaveCount(7);
  await expect(table.locator('thead')).toContainText('VT-x, EPT');
  await expect(table.locator('thead')).toContainText('A&A VT-x');
  const inRow = table.locator('tbody tr', { has: page.locator('th', { hasText: /^in$/ }) });
  await expect(inRow).toContainText('15,826'); // the paper's VT-x in
  await expect(table).toContainText('failed'); // trap-and-emulate cannot boot minikernel
  await expect(page.getByTestId('aa-findings').locator('li.ok')).toHaveCount(4);
  await page.screenshot({ path: 'test-results/adams-agesen-p4.png', fullPage: true });

  // Another generation: the VT-x in figure changes with it, and the URL remembers the choice.
  const vtxIn = inRow.locator('td').nth(3);
  const before = await vtxIn.textContent();
  await page.getByTestId('aa-preset-nehalem').click();
  await expect(page.getByTestId('aa-preset-nehalem')).toHaveAttribute('aria-pressed', 'true');
  await expect(vtxIn).not.toHaveText(before ?? '');
  expect(page.url()).toContain('cpu=nehalem');
  await page.screenshot({ path: 'test-results/adams-agesen-nehalem.png' });
});
