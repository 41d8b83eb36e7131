import { expect, test } from './fixtures.ts';

test('trapdemo under binary translation: the Translation view shows a unit beside its TC code', async ({
  page,
}) => {
  test.setTimeout(180_000); // the shared machine is slow; the steps themselves are short
  await page.setViewportSize({ width: 1280, height: 720 });
  await page.goto('/?guest=trapdemo&technique=binary-translation');
  await expect(page.getByTestId('status-note')).toHaveText('Loaded — press Run', { timeout: 30_000 });
  // Run to the first translation record and select it.
  await page.getByTestId('until-kind').selectOption({ label: 'translation' });
  await page.getByTestId('run-until').click();
  const rows = page
    .getByTestId('trap-row')
    .filter({ has: page.locator('.c-kind', { hasText: /^translation$/ }) });
  await expect(rows.first()).toBeVisible({ timeout: 30_000 });
  await rows.last().click();
  await expect(page.getByTestId('trap-detail')).toBeVisible();

  await page.getByTestId('translation-tab').click();
  const view = page.getByTestId('tc-view');
  await expect(page.getByTestId('tc-unit-head')).toContainText('selected translation record');
  await expect(view.getByTestId('tc-stats')).toContainText('TC occupancy');
  await expect(view.getByTestId('tc-chaining')).toContainText('exits chained');
  const first = view.getByTestId('tc-row').first();
  await expect(first.getByTestId('tc-guest')).not.toBeEmpty();
  await expect(first.getByTestId('tc-insn').first()).not.toBeEmpty();
  // An IDENT instruction is its own translation; a rewritten one is marked and explained.
  const ident = view.locator('[data-testid="tc-row"][data-kind="ident"]');
  if ((await ident.count()) > 0) {
    const g = await ident.first().getByTestId('tc-guest').textContent();
    await expect(ident.first().getByTestId('tc-insn').first()).toHaveText(g ?? '');
    await expect(ident.first().getByTestId('tc-note')).toContainText('IDENT');
  }
  const rewritten = view.locator('[data-testid="tc-row"]:not([data-kind="ident"])');
  await expect(rewritten.first()).toBeVisible();
  await expect(rewritten.first().getByTestId('tc-note')).toContainText(/Callout|Inline|Rewritten/);
  await page.screenshot({ path: 'test-results/translation-view.png' });

  // A callout record: its unit is shown, with the callout marked.
  await page.getByTestId('until-kind').selectOption({ label: 'callout' });
  await page.getByTestId('run-until').click();
  const callouts = page
    .getByTestId('trap-row')
    .filter({ has: page.locator('.c-kind', { hasText: /^callout$/ }) });
  await expect(callouts.first()).toBeVisible({ timeout: 30_000 });
  await callouts.last().click();
  await page.getByTestId('translation-tab').click();
  await expect(page.getByTestId('tc-unit-head')).toContainText('selected callout record');
  await expect(view.locator('[data-testid="tc-row"][data-kind="callout"]').first()).toContainText('int 0xbb');
  await page.screenshot({ path: 'test-results/translation-callout.png' });

  // Stepping by translation: each press runs to the next record of that kind, which the UI selects:
  // the view shows its unit.
  const note = page.getByTestId('status-note');
  await page.getByTestId('next-translation').click();
  await expect(note).toContainText('Stopped at translation', { timeout: 30_000 });
  await expect(page.getByTestId('tc-unit-head')).toContainText('selected translation record');
  const firstNote = await note.textContent();
  await page.getByTestId('next-translation').click();
  await expect(note).not.toHaveText(firstNote ?? '', { timeout: 30_000 });
  await expect(note).toContainText('Stopped at translation');
  await page.getByTestId('next-callout').click();
  await expect(note).toContainText('Stopped at callout', { timeout: 30_000 });
  await expect(page.getByTestId('tc-unit-head')).toContainText('selected callout record');
  await expect(page.getByTestId('next-callout')).toBeEnabled();
  await page.screenshot({ path: 'test-results/translation-next.png' });
});
