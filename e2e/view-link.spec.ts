/**
 * What the page shows travels in a share link too: the right-hand tab and the EPT view's address
 * box. Opening the link replays the run, opens the tab and walks the address; bad values in a link
 * are named in a toast and the page carries on.
 */
import { expect, test } from './fixtures.ts';

test('a link carries the VMCS tab and the EPT address box: the walk shows again on a fresh page', async ({
  page,
  context,
  pageErrors,
}) => {
  test.setTimeout(90_000);
  await page.setViewportSize({ width: 1280, height: 720 });
  await page.goto('/?guest=minikernel&technique=hardware-assisted&vms=1');
  await expect(page.getByTestId('status-note')).toHaveText('Loaded — press Run', { timeout: 30_000 });
  for (let i = 1; i <= 3; i++) {
    await page.getByTestId('step-trap').click();
    await expect(page).toHaveURL(new RegExp(`[?&]at=t${i}(&|$)`));
  }
  // The tab goes into the URL as it is picked …
  await page.getByTestId('vmcs-tab').click();
  await expect(page).toHaveURL(/[?&]tab=vmcs(&|$)/);
  // … and so does the EPT address once walked.
  await page.getByTestId('ept-ask-space').selectOption('guest-physical');
  await page.getByTestId('ept-ask-addr').fill('0x12345');
  await page.getByTestId('ept-ask-go').click();
  const final = page.getByTestId('ept-walk-final');
  await expect(final).toContainText(/GPA 0x00012345 → HPA 0x[0-9a-f]{5}345/);
  await expect(page).toHaveURL(/[?&]tab=vmcs&ept=12345&eptspace=physical$/);
  const walked = await final.textContent();
  const link = page.url();

  // A fresh page replays to the same stop, opens the VMCS tab and walks the same address.
  const other = await context.newPage();
  other.on('pageerror', (e) => pageErrors.push(`second page: ${e.message}`));
  await other.setViewportSize({ width: 1280, height: 720 });
  await other.goto(link);
  await expect(other.getByTestId('status-note')).toContainText('(replayed from the link)', {
    timeout: 30_000,
  });
  await expect(other.getByTestId('vmcs-tab')).toHaveAttribute('aria-selected', 'true');
  await expect(other.getByTestId('ept-ask-addr')).toHaveValue('0x00012345');
  await expect(other.getByTestId('ept-ask-space')).toHaveValue('guest-physical');
  await expect(other.getByTestId('ept-view').locator('summary')).toContainText('your guest-physical address');
  await expect.poll(() => other.getByTestId('ept-walk-final').textContent()).toBe(walked);
  await other.getByTestId('ept-view').scrollIntoViewIfNeeded();
  await other.screenshot({ path: 'test-results/view-link-ept.png' });
  // Back to the exit's own address: the address leaves the link, the tab stays.
  await other.getByTestId('ept-ask-reset').click();
  await expect(other).not.toHaveURL(/[?&]ept=/);
  await expect(other).toHaveURL(/[?&]tab=vmcs(&|$)/);
  // Back to the default tab: nothing about the view is left in the link.
  await other.getByRole('tab', { name: 'Code & memory' }).click();
  await expect(other).not.toHaveURL(/[?&]tab=/);
  await other.close();

  // Bad values: each one named in a toast, ignored, and the guest still loads.
  await page.goto('/?guest=minikernel&technique=hardware-assisted&vms=1&tab=warp&ept=0xZZ');
  await expect(page.getByTestId('status-note')).toHaveText('Loaded — press Run', { timeout: 30_000 });
  const toasts = page.getByTestId('toast');
  await expect(toasts.filter({ hasText: 'tab “warp” does not exist' })).toBeVisible();
  await expect(toasts.filter({ hasText: 'EPT address “0xZZ” is not an address' })).toBeVisible();
  await page.screenshot({ path: 'test-results/view-link-bad.png' });
  await expect(page).not.toHaveURL(/[?&](tab|ept)=/);
  await expect(page.getByRole('tab', { name: 'Code & memory' })).toHaveAttribute('aria-selected', 'true');
  // A tab this technique lacks: named, and the page opens on the first tab.
  await page.goto('/?guest=minikernel&technique=native&vms=1&tab=vmcs');
  await expect(
    page.getByTestId('toast').filter({ hasText: 'VMCS tab, which native does not have' }),
  ).toBeVisible({
    timeout: 30_000,
  });
  await expect(page.getByRole('tab', { name: 'Code & memory' })).toHaveAttribute('aria-selected', 'true');
});
