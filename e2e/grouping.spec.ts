/**
 * Grouped repeats in the trap log: trapdemo's UART polling (thousands of "in, out" records)
 * collapses into a row a teacher can open, every record stays in the log, and "Next trap" still
 * stops on single records — the group holding the stop opens to show it.
 */
import { expect, test } from './fixtures.ts';

test('trap log: repeats collapse into one expandable row; stepping still lands on single records', async ({
  page,
}) => {
  test.setTimeout(180_000);
  await page.setViewportSize({ width: 1280, height: 720 });
  await page.goto('/?guest=trapdemo&technique=trap-and-emulate&vms=1');
  await expect(page.getByTestId('status-note')).toHaveText('Loaded — press Run', { timeout: 60_000 });
  await page.getByTestId('group-repeats').check();

  // Step into the polling: each stop is one record, selected and shown in its (opened) group.
  for (let i = 0; i < 11; i++) {
    await page.getByTestId('step-trap').click();
    // Each stop selects the next record (the link's `sel` is its sequence number).
    await expect(page).toHaveURL(new RegExp(`[?&]sel=${i}(&|$)`));
  }
  const selected = page.locator('[data-testid=trap-row][aria-selected=true]');
  await expect(selected).toHaveCount(1);
  const seq = (await selected.locator('.c-idx').textContent())?.trim();
  await expect(page.getByTestId('trap-detail')).toContainText(`Sequence${seq}`);
  // By now the polling has repeated: the selected record sits in an opened group.
  await expect(page.locator('.trow.group-member, .trow.group-head').first()).toBeVisible();

  // Run to the end: the log keeps every record; the table has far fewer rows.
  await page.getByTestId('trap-detail').getByRole('button', { name: 'Close the detail' }).click();
  await page.getByTestId('run-pause').click();
  await expect(page.getByTestId('stop-reason')).toContainText('exited', { timeout: 60_000 });
  const total = Number(await page.getByTestId('trap-total').getAttribute('data-total'));
  const head = page.getByTestId('trap-total');
  await expect(head).toContainText(/· \d+ rows/);
  const rows = Number((await head.textContent())!.match(/· (\d+) rows/)?.[1] ?? 'NaN');
  expect(total).toBeGreaterThan(2000);
  expect(rows).toBeLessThan(total / 10);

  // The biggest group in view (a console line's UART polling), collapsed: "▸ ×N" and its cycle;
  // opening it shows its records one by one.
  await page.getByTestId('follow').uncheck();
  await page.getByTestId('trap-scroll').evaluate((el) => {
    el.scrollTop = 0;
  });
  const toggles = page.getByTestId('group-toggle');
  await expect(toggles.first()).toBeVisible();
  // The jump to the top refetches the rows in view: read the toggles once that window has landed
  // (a read in between can see the old rows go before the new ones come).
  let sizes: number[] = [];
  await expect
    .poll(async () => {
      sizes = (await toggles.allTextContents()).map((t) => Number(t.replace(/[^\d]/g, '')));
      return Math.max(0, ...sizes);
    })
    .toBeGreaterThan(50);
  const k = sizes.indexOf(Math.max(...sizes));
  expect(sizes[k]).toBeGreaterThan(50);
  // One toggle per group's first row, in the same order.
  const bigRow = page.locator('.trow.group-head').nth(k);
  const big = bigRow.getByTestId('group-toggle');
  await expect(big).toHaveAttribute('aria-expanded', 'false');
  await expect(bigRow.locator('.c-reason')).toContainText('→');
  const firstSeq = Number(await bigRow.locator('.c-idx').textContent());
  await big.click();
  await expect(big).toHaveAttribute('aria-expanded', 'true');
  const members = page.locator('.trow.group-member');
  await expect(members.first()).toBeVisible();
  // The rows in view after the group's first: its next records, in order.
  const memberSeqs = (await members.locator('.c-idx').allTextContents()).map(Number);
  expect(memberSeqs.length).toBeGreaterThanOrEqual(2);
  expect(memberSeqs).toEqual(memberSeqs.map((_, d) => firstSeq + d + 1));
  await page.screenshot({ path: 'test-results/grouping-open.png' });
  await big.click();
  await expect(page.locator('.trow.group-member')).toHaveCount(0);
});
