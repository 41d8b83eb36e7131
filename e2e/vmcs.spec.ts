/**
 * The VMCS panel: trapdemo under the hardware-assisted technique, stepped to a VM exit; the panel
 * shows the exit reason of the trap the worker stopped at and the decoded controls, read from the
 * CPU's live VMCS.
 */
import { expect, test } from './fixtures.ts';

test('trapdemo under hardware-assisted: step to a VM exit, read the VMCS', async ({ page }) => {
  test.setTimeout(120_000);
  await page.setViewportSize({ width: 1280, height: 720 });
  await page.goto('/?guest=trapdemo&technique=hardware-assisted&vms=1');
  await expect(page.getByTestId('status-note')).toHaveText('Loaded — press Run', { timeout: 30_000 });

  // Two exits, so the panel has a previous exit to compare with.
  await page.getByTestId('step-trap').click();
  await expect(page.getByTestId('status-note')).toContainText('Stopped at trap:');
  await page.getByTestId('step-trap').click();
  await expect(page.getByTestId('trap-row')).toHaveCount(2);

  await page.getByTestId('vmcs-tab').click();
  const panel = page.getByTestId('vmcs-panel');
  await expect(panel).toBeVisible();
  // The exit reason is the one of the last VmExit row of the trap log.
  const lastReason =
    (await page.getByTestId('trap-row').last().locator('.c-reason').textContent())?.trim() ?? '';
  expect(lastReason.length).toBeGreaterThan(0);
  const reason = page.getByTestId('vmcs-exit-reason');
  await expect(reason).toHaveText(/^\d+ — .+/);
  expect((await reason.textContent())?.toLowerCase()).toContain(lastReason.toLowerCase());
  // The primary processor-based controls, decoded: HLT exiting is set (bit 7).
  const hlt = page.getByTestId('vmcs-bits-PROC_CTLS').locator('[data-bit="7"]');
  await expect(hlt).toHaveText('7 HLT exiting');
  await expect(hlt).toHaveAttribute('data-set', '1');
  await expect(page.getByTestId('vmcs-bits-PROC_CTLS2').locator('[data-bit="1"]')).toHaveText('1 Enable EPT');
  await expect(page.getByTestId('vmcs-field-EXIT_REASON')).toContainText('0x4402');
  await expect(page.getByTestId('vmcs-group-exit-info')).toContainText('Exit qualification');
  await page.screenshot({ path: 'test-results/vmcs-panel.png' });
  await page.getByTestId('vmcs-field-EXIT_REASON').scrollIntoViewIfNeeded();
  await expect(page.locator('[data-testid="vmcs-panel"] .val.changed').first()).toBeVisible();
  await page.screenshot({ path: 'test-results/vmcs-exit-info.png' });
  await page.getByTestId('vmcs-bits-PROC_CTLS').scrollIntoViewIfNeeded();
  await page.screenshot({ path: 'test-results/vmcs-controls.png' });

  // The exit-reason filter: run to the end, then keep only the VM exits
  // with the last exit's reason (the unit test checks the filter's exact semantics).
  await page.getByTestId('run-pause').click();
  await expect(page.getByTestId('status-note')).toContainText('exited', { timeout: 90_000 });
  await page.getByTestId('vmcs-tab').click();
  const now = ((await reason.textContent()) ?? '').replace(/^\d+ — /, '').toLowerCase();
  expect(now.length).toBeGreaterThan(0);
  await page.getByTestId('vmcs-filter-reason').click();
  await expect(page.getByTestId('vmcs-filter-reason')).toHaveText('Show every trap-log record again');
  await expect(page.getByTestId('trap-row').first()).toBeVisible();
  await expect
    .poll(async () => {
      const shown = await page.getByTestId('trap-row').locator('.c-reason').allTextContents();
      return [...new Set(shown.map((r) => r.trim().toLowerCase()))];
    })
    .toEqual([now]);
  // Fewer records match than the log holds (the last ones are port I/O, the first an interrupt).
  const head = page.getByTestId('trap-total');
  await expect(head).toContainText(' match');
  const [, held, match] = /^([\d,]+) records.* · ([\d,]+) match/.exec((await head.textContent()) ?? '') ?? [];
  const num = (t?: string) => Number((t ?? 'NaN').replace(/,/g, ''));
  expect(num(match)).toBeGreaterThan(0);
  expect(num(match)).toBeLessThan(num(held));
  await page.screenshot({ path: 'test-results/vmcs-filter.png' });
  await page.getByTestId('vmcs-filter-reason').click();
  await expect(page.getByTestId('vmcs-filter-reason')).toHaveText(
    /^Show only “\d+ — .+” exits in the trap log$/,
  );
});
