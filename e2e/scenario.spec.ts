import { expect, test } from './fixtures.ts';
import { EXITED_OK } from './helpers.ts';

test('the URL carries the scenario and a reload reproduces it', async ({ page }) => {
  await page.goto('/?guest=trapdemo&technique=native&vms=1');
  await expect(page.getByTestId('guest-select')).toHaveValue('trapdemo');
  await expect(page.getByTestId('status-note')).toHaveText('Loaded — press Run');

  // Choosing in the toolbar rewrites the URL (and loads the guest).
  await page.getByTestId('guest-select').selectOption('minikernel');
  await expect(page).toHaveURL(/[?&]guest=minikernel(&|$)/);
  await expect(page).toHaveURL(/[?&]technique=native(&|$)/);
  await expect(page).toHaveURL(/[?&]vms=1(&|$)/);
  await expect(page.getByTestId('guest-description')).toContainText('shell');

  await page.reload();
  await expect(page.getByTestId('guest-select')).toHaveValue('minikernel');
  await expect(page.getByTestId('technique-select')).toHaveValue('native');
  await expect(page.getByTestId('status-note')).toHaveText('Loaded — press Run');
  await expect(page.getByTestId('guest-banner')).toContainText('minikernel');

  // The share button copies exactly this link.
  await page.context().grantPermissions(['clipboard-read', 'clipboard-write']);
  await page.getByTestId('share').click();
  await expect(page.getByTestId('toast')).toContainText('Link copied');
  expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(page.url());
});

test('native always runs one VM, whatever the URL asks', async ({ page }) => {
  await page.goto('/?guest=hello&technique=native&vms=3');
  await expect(page.getByTestId('vms-select')).toHaveValue('1');
  await expect(page.getByTestId('vms-select')).toBeDisabled();
  await expect(page).toHaveURL(/[?&]vms=1(&|$)/);
  await expect(page.getByTestId('status-note')).toHaveText('Loaded — press Run');
});

test('a nonsense URL falls back to defaults instead of breaking', async ({ page }) => {
  await page.goto('/?guest=%3Cscript%3E&technique=warp-drive&vms=99');
  await expect(page.getByTestId('app')).toBeVisible();
  await expect(page.getByTestId('guest-select')).toHaveValue('hello');
  await expect(page.getByTestId('technique-select')).toHaveValue('native');
  await expect(page.getByTestId('vms-select')).toHaveValue('1');
  await expect(page.getByTestId('status-note')).toHaveText('Loaded — press Run');
});

test('a damaged run position in a link is reported and the guest starts from the beginning', async ({
  page,
}) => {
  await page.goto('/?guest=hello&technique=native&vms=1&at=t2.zz9&sel=1');
  await expect(page.getByTestId('toast')).toContainText("The link's run position is damaged");
  await expect(page.getByTestId('status-note')).toHaveText('Loaded — press Run');
  await expect(page).not.toHaveURL(/[?&]at=/);
  await expect(page).not.toHaveURL(/[?&]sel=/);
  await page.getByTestId('run-pause').click();
  await expect(page.getByTestId('status-note')).toHaveText(EXITED_OK);
});
