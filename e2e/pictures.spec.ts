/**
 * "Look, don't read": the ring diagram and the trap timeline, drawn from live state.
 */
import { expect, test } from './fixtures.ts';

test('rings: under trap-and-emulate the guest kernel believes ring 0 and really runs in ring 1', async ({
  page,
}) => {
  await page.setViewportSize({ width: 1280, height: 720 });
  await page.goto('/?guest=trapdemo&technique=trap-and-emulate&vms=1');
  await expect(page.getByTestId('status-note')).toHaveText('Loaded — press Run', { timeout: 60_000 });
  await page.getByTestId('rings-tab').click();
  await expect(page.getByTestId('ring-believed')).toHaveAttribute('data-ring', '0');
  await expect(page.getByTestId('ring-real')).toHaveAttribute('data-ring', '1');
  await expect(page.getByTestId('ring-pairs')).toContainText('guest kernel');
  await expect(page.getByTestId('ring-pairs').locator('tr.deprivileged')).toHaveCount(1);
  await page.screenshot({ path: 'test-results/pictures-rings.png' });
});

test('rings: natively the ring the guest believes is the ring it runs in', async ({ page }) => {
  await page.goto('/?guest=hello&technique=native&vms=1');
  await expect(page.getByTestId('status-note')).toHaveText('Loaded — press Run', { timeout: 60_000 });
  await page.getByTestId('rings-tab').click();
  await expect(page.getByTestId('ring-believed')).toHaveAttribute('data-ring', '0');
  await expect(page.getByTestId('ring-real')).toHaveAttribute('data-ring', '0');
  await expect(page.getByTestId('ring-pairs').locator('tr.deprivileged')).toHaveCount(0);
});

test('timeline: traps per kind over virtual time, as the run goes', async ({ page }) => {
  await page.setViewportSize({ width: 1280, height: 720 });
  await page.goto('/?guest=trapdemo&technique=trap-and-emulate&vms=1');
  await expect(page.getByTestId('status-note')).toHaveText('Loaded — press Run', { timeout: 60_000 });
  await page.getByTestId('timeline-tab').click();
  await expect(page.getByTestId('timeline')).toHaveCount(0);
  // Slow enough that several samples are taken while it runs.
  await page.getByTestId('speed').selectOption({ label: '10 k instr/s' });
  await page.getByTestId('run-pause').click();
  await expect(page.getByTestId('timeline')).toBeVisible({ timeout: 30_000 });
  // Bars with records in them (one per kind and stretch of time), drawn by uPlot on a canvas:
  // part of it is the port-I/O colour.
  await expect
    .poll(async () => Number(await page.getByTestId('timeline').getAttribute('data-cells')), {
      timeout: 30_000,
    })
    .toBeGreaterThan(3);
  await expect
    .poll(
      () =>
        page.getByTestId('timeline').evaluate((el) => {
          const c = el.querySelector('canvas')!;
          const li = Array.from(el.querySelectorAll('.tl-legend li')).find((x) =>
            x.textContent?.includes('port I/O'),
          );
          if (!li) return 0;
          const probe = document.createElement('canvas').getContext('2d')!;
          probe.fillStyle = getComputedStyle(li).getPropertyValue('--kc').trim();
          probe.fillRect(0, 0, 1, 1);
          const [r, g, b] = probe.getImageData(0, 0, 1, 1).data;
          const px = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
          let n = 0;
          for (let i = 0; i < px.length; i += 4)
            if (
              Math.abs(px[i] - r) + Math.abs(px[i + 1] - g) + Math.abs(px[i + 2] - b) < 12 &&
              px[i + 3] > 200
            )
              n++;
          return n;
        }),
      { timeout: 30_000 },
    )
    .toBeGreaterThan(20);
  await expect(page.getByTestId('timeline-legend')).toContainText('port I/O');
  // At its end, the legend's count is the log's own count for that kind.
  await expect(page.getByTestId('stop-reason')).toContainText('exited', { timeout: 60_000 });
  const chip = await page
    .getByTestId('kind-chips')
    .locator('.chip', { hasText: 'port I/O' })
    .locator('b')
    .textContent();
  await expect(
    page.getByTestId('timeline-legend').locator('li', { hasText: 'port I/O' }).locator('b'),
  ).toHaveText(chip!);
  await page.screenshot({ path: 'test-results/pictures-timeline.png' });
});

test('page tables: the guest’s own walk beside the shadow walk, for EIP and for a typed address', async ({
  page,
}) => {
  await page.setViewportSize({ width: 1280, height: 720 });
  await page.goto('/?guest=trapdemo&technique=trap-and-emulate&vms=2');
  await expect(page.getByTestId('status-note')).toHaveText('Loaded — press Run', { timeout: 60_000 });
  await page.getByTestId('run-pause').click();
  await expect(page.getByTestId('stop-reason')).toContainText('exited', { timeout: 60_000 });
  await page.getByTestId('paging-tab').click();
  const guest = page.getByTestId('pw-guest');
  const shadow = page.getByTestId('pw-shadow');
  // The code it last ran: mapped by the guest (PDE + PTE) and filled in the shadow.
  await expect(guest.getByTestId('pw-PTE')).toBeVisible({ timeout: 30_000 });
  await expect(shadow.getByTestId('pw-PTE')).toBeVisible();
  await expect(guest.getByTestId('pw-gpa')).toHaveText(/^guest-physical [0-9A-F]{8}/i);
  const host = (await guest.locator('p.muted', { hasText: 'host-physical' }).textContent())!.match(
    /host-physical ([0-9A-F]{8})/i,
  )![1];
  await expect(shadow.getByTestId('pw-hpa')).toHaveText(`host-physical ${host}`);
  await page.screenshot({ path: 'test-results/pictures-page-tables.png' });
  // An address the guest never mapped: a fault the guest must see, nothing in the shadow.
  await page.getByTestId('pw-addr').fill('7fc00000');
  await expect(guest.getByTestId('pw-gpa')).toContainText('Not mapped');
  await expect(shadow.getByTestId('pw-hpa')).toContainText('Not filled yet');
});
