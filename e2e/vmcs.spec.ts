/**
 * The VMCS panel: trapdemo under the hardware-assisted technique, stepped to a VM exit; the panel
 * shows the exit reason of the trap the worker stopped at and the decoded controls, read from the
 * CPU's live VMCS.
 */
import { expect, test } from './fixtures.ts';
import { consoleText } from './helpers.ts';

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

test('minikernel under VT-x: the EPT view (2-D walk), next-exit stepping, the EPT/shadow switch', async ({
  page,
}) => {
  test.setTimeout(150_000);
  await page.setViewportSize({ width: 1280, height: 720 });
  await page.goto('/?guest=minikernel&technique=hardware-assisted&vms=1');
  await expect(page.getByTestId('status-note')).toHaveText('Loaded — press Run', { timeout: 30_000 });
  // Boot to the shell (the kernel has paging on by then), pause.
  await page.getByTestId('run-pause').click();
  await expect.poll(() => consoleText(page), { timeout: 60_000 }).toContain('mini$');
  await page.getByTestId('run-pause').click();
  await expect(page.getByTestId('status-note')).toHaveText('Paused');

  await page.getByTestId('vmcs-tab').click();
  await expect(page.getByTestId('vtx-paging-ept')).toBeChecked();
  // "Next VM exit": one more VM exit record in the log, the worker stops at it.
  const total = async () => Number(await page.getByTestId('trap-total').getAttribute('data-total'));
  const before = await total();
  await page.getByTestId('vmcs-next-exit').click();
  await expect(page.getByTestId('status-note')).toContainText(/^Stopped at VM exit \(record \d+\)/);
  expect(await total()).toBeGreaterThan(before);

  // The 2-D walk: the guest's PDE and PTE (paging on), each at a guest-physical address with its
  // own 4-level EPT walk, then the final guest-physical address's EPT walk to a host address.
  const view = page.getByTestId('ept-view');
  await expect(view).toBeVisible();
  await expect(page.getByTestId('ept-address')).toContainText('guest paging on');
  await expect(page.getByTestId('ept-guest-PDE')).toContainText(/P RW/);
  const final = page.getByTestId('ept-walk-final');
  await expect(final.locator('tr[data-level="4"] th')).toHaveText('PML4E');
  await expect(final.locator('tr[data-level="3"] th')).toHaveText('PDPTE');
  await expect(final).toContainText(/GPA 0x[0-9a-f]{8} → HPA 0x[0-9a-f]{8}/);
  await expect(final).toContainText('RWX');
  await view.scrollIntoViewIfNeeded();
  await page.screenshot({ path: 'test-results/vmcs-ept-view.png' });

  // The address box: a guest-physical address walks the EPT alone (to the VM's host memory) …
  await page.getByTestId('ept-ask-space').selectOption('guest-physical');
  await page.getByTestId('ept-ask-addr').fill('0x12345');
  await page.getByTestId('ept-ask-go').click();
  await expect(view.locator('summary')).toContainText('your guest-physical address');
  await expect(page.getByTestId('ept-address')).toHaveText('Only a guest-physical address is known.');
  await expect(final).toContainText(/GPA 0x00012345 → HPA 0x[0-9a-f]{5}345/);
  await expect(final.locator('tr[data-level="1"] th')).toHaveText('PTE');
  // … bad input gets a clear error and keeps the last walk …
  await page.getByTestId('ept-ask-addr').fill('0xZZ');
  await page.getByTestId('ept-ask-go').click();
  await expect(page.getByTestId('ept-ask-error')).toContainText('is not an address: type 1 to 8 hex digits');
  await expect(final).toContainText('GPA 0x00012345');
  // … beyond the VM's memory the EPT has no entry: an EPT violation …
  await page.getByTestId('ept-ask-addr').fill('7000000');
  await page.getByTestId('ept-ask-go').click();
  await expect(final).toContainText(/GPA 0x07000000: .*not present: EPT violation/);
  // … and a guest-linear address shows the guest's own walk beside each EPT walk (the 2-D walk).
  await page.getByTestId('ept-ask-space').selectOption('linear');
  await page.getByTestId('ept-ask-addr').fill('0x00100000');
  await page.getByTestId('ept-ask-go').click();
  await expect(view.locator('summary')).toContainText('your guest-linear address');
  await expect(page.getByTestId('ept-address')).toContainText('Guest-linear 0x00100000');
  await expect(page.getByTestId('ept-guest-PDE')).toContainText(/P RW/);
  await expect(page.getByTestId('ept-walk-PDE')).toContainText(/→ HPA/);
  await expect(final).toContainText(/GPA 0x[0-9a-f]{8} → HPA 0x[0-9a-f]{8}/);
  await view.scrollIntoViewIfNeeded();
  await page.screenshot({ path: 'test-results/vmcs-ept-address.png' });
  await page.getByTestId('ept-ask-reset').click();
  await expect(view.locator('summary')).not.toContainText('your');

  // "Run until exit reason X": the next I/O-instruction exit (30); the record it stopped at is
  // selected, with the registers before and after it, and the status names the reason.
  await page.getByTestId('until-exit-reason').selectOption('30');
  await page.getByTestId('until-exit-go').click();
  await expect(page.getByTestId('status-note')).toContainText(
    /^Stopped at VM exit 30 \(I\/O instruction\) \(record \d+\)/,
    { timeout: 30_000 },
  );
  const sel = page.locator('.trow.selected');
  await expect(sel.locator('.c-reason')).toHaveText(/I\/O instruction/i);
  await expect(page.getByTestId('trap-regs')).toContainText('before');
  // Exact snapshots when the exit came within the worker's single-step window, else the previous
  // stop (where the pause landed, and so which, depends on wall time).
  await expect(page.getByTestId('trap-regs-note')).toContainText(
    /Real snapshots|"Before" is the previous stop/,
  );
  await expect(page.getByTestId('trap-regdiff').first()).toContainText('EIP');
  await expect(page.getByTestId('vmcs-exit-reason')).toHaveText(/^30 — I\/O instruction/);
  // Another reason: the interrupt-window or timer exits differ; HLT (12) comes at the idle shell.
  await page.getByTestId('until-exit-reason').selectOption('12');
  await page.getByTestId('until-exit-go').click();
  await expect(page.getByTestId('status-note')).toContainText(/^Stopped at VM exit 12 \(HLT\)/, {
    timeout: 30_000,
  });
  await expect(page.locator('.trow.selected .c-reason')).toHaveText(/HLT/i);
  await page.screenshot({ path: 'test-results/vmcs-until-exit.png' });
  // The trap log's exit-reason filter keeps only the VM exits with that reason.
  await page.getByTestId('trap-exit-filter').selectOption('12');
  await expect
    .poll(async () => {
      const shown = await page.getByTestId('trap-row').locator('.c-reason').allTextContents();
      return [...new Set(shown.map((r) => r.trim().toLowerCase()))];
    })
    .toEqual(['hlt']);
  await page.getByTestId('trap-exit-filter').selectOption('');

  // The paging switch reloads the guest with shadow paging (and the link says so): no EPT.
  await page.getByTestId('vtx-paging-shadow').check();
  await expect(page).toHaveURL(/[?&]paging=shadow/);
  await expect(page.getByTestId('status-note')).toHaveText('Loaded — press Run', { timeout: 30_000 });
  await page.getByTestId('step-trap').click();
  await expect(page.getByTestId('status-note')).toContainText('Stopped at trap:');
  await page.getByTestId('vmcs-tab').click();
  await expect(page.getByTestId('vtx-paging-shadow')).toBeChecked();
  await expect(page.getByTestId('vmcs-bits-PROC_CTLS2').locator('[data-bit="1"]')).toHaveAttribute(
    'data-set',
    '0',
  );
  await expect(page.getByTestId('vmcs-bits-PROC_CTLS').locator('[data-bit="15"]')).toHaveAttribute(
    'data-set',
    '1',
  );
  await expect(page.getByTestId('ept-view')).toHaveCount(0);
  await page.screenshot({ path: 'test-results/vmcs-shadow.png' });
});
