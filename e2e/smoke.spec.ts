import { expect, test } from './fixtures.ts';

test('the playground opens with its app root and no page errors', async ({ page }) => {
  await page.goto('/');
  await expect(page.getByTestId('app')).toBeVisible();
  await expect(page.getByRole('toolbar')).toBeVisible();
  // The guest picker lists the manifest's guests, with the teaching description shown.
  await expect(page.getByTestId('guest-select')).toContainText('Hello, protected mode');
  await expect(page.getByTestId('guest-description')).toContainText('multiboot kernel');
  await expect.poll(() => page.evaluate(() => self.crossOriginIsolated)).toBe(true);
  // The worker reports which techniques this build runs; the picker offers exactly those.
  await expect(page.getByTestId('technique-select').locator('option[value=native]')).toBeEnabled();
  await expect(page.getByTestId('technique-select').locator('option:not([disabled])')).not.toHaveCount(0);
  await page.screenshot({ path: 'test-results/smoke.png', fullPage: true });
});
