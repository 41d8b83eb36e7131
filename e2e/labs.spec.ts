/**
 * The comparison lab (issue 19): the Popek–Goldberg matrix computed in the browser, a cell opening
 * its run in the playground with the instruction's trap-log record selected, and a comparison link
 * showing two machines' consoles, counters and the uPlot chart.
 */
import { expect, test } from './fixtures.ts';

test('the Popek–Goldberg matrix fills from real runs and a cell opens its record in the playground', async ({
  page,
}) => {
  test.setTimeout(180_000);
  await page.setViewportSize({ width: 1280, height: 720 });
  await page.goto('/?view=popek-goldberg');
  await expect(page.getByTestId('pg-matrix')).toBeVisible({ timeout: 30_000 });
  // Rows arrive in order: SIDT is row 2.
  const sidtTe = page.getByTestId('pg-cell-sidt-trap-and-emulate');
  await expect(sidtTe).toHaveAttribute('data-outcome', 'wrong', { timeout: 60_000 });
  await expect(page.getByTestId('pg-cell-sidt-binary-translation')).toHaveAttribute(
    'data-outcome',
    'trapped',
  );
  await expect(page.getByTestId('pg-cell-sidt-hardware-assisted')).toHaveAttribute('data-outcome', 'correct');
  await expect(page.getByTestId('pg-cell-sidt-paravirtual')).toHaveAttribute('data-outcome', 'n/a');
  await sidtTe.hover();
  await expect(page.getByTestId('pg-detail')).toContainText('SIDT base=');
  await expect(page.getByTestId('pg-detail')).toContainText('silent event #');
  await page.screenshot({ path: 'test-results/labs-matrix.png' });

  // The cell's link replays that run to the VMM's silent-event record of the SIDT and selects it.
  const href = await sidtTe.locator('a').getAttribute('href');
  expect(href).toMatch(
    /guest=sensitive-sidt&technique=trap-and-emulate&vms=1&at=c[0-9a-z]+_[0-9a-z]+&sel=\d+/,
  );
  const sel = Number(/sel=(\d+)/.exec(href!)![1]);
  await sidtTe.locator('a').click();
  await expect(page.getByTestId('trap-detail')).toContainText('silent event', { timeout: 60_000 });
  await expect(page.getByTestId('trap-detail')).toContainText('SIDT');
  await expect(page.locator('.trow.selected')).toHaveCount(1);
  await expect(page.locator('.trow.selected .c-idx')).toContainText(String(sel));
  await page.screenshot({ path: 'test-results/labs-matrix-cell.png' });
});

test('a comparison link runs the guest under two techniques side by side, with counters and a chart', async ({
  page,
}) => {
  test.setTimeout(180_000);
  await page.setViewportSize({ width: 1280, height: 720 });
  await page.goto('/?view=compare&guest=minikernel&techniques=native,bt&input=help%5Cr');
  await expect(page.getByTestId('cmp-console-native')).toBeVisible({ timeout: 30_000 });
  await expect(page.getByTestId('cmp-console-binary-translation')).toBeVisible();
  // The input from the link reached both: each shell printed its help.
  for (const t of ['native', 'binary-translation']) {
    await expect
      .poll(
        () =>
          page.evaluate(
            (x) => (window as never as { __compareTranscript: (t: string) => string }).__compareTranscript(x),
            t,
          ),
        {
          timeout: 60_000,
        },
      )
      .toMatch(/mini\$ help[\s\S]*bench/);
  }
  const counters = page.getByTestId('cmp-counters');
  await expect(counters).toContainText('callout');
  await expect(counters).toContainText('translation');
  await expect(page.getByTestId('cmp-chart').locator('canvas')).toHaveCount(1);
  await expect(page.getByTestId('cmp-chart')).toContainText('binary-translation'); // the legend
  await expect(page.getByTestId('cmp-lockstep')).toBeChecked();
  await expect(page).toHaveURL(/view=compare&guest=minikernel&techniques=native%2Cbinary-translation/);
  await page.screenshot({ path: 'test-results/labs-compare.png' });
});
