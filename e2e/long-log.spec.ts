/**
 * The trap table over a log longer than the browser can make an element tall (issue 11): a guest
 * that does 1.6 M port writes under binary translation fills the log past its 1,048,576 held
 * records; at 24 px a row that is 25 M px, so the table scales its scrollbar (trap-virtualizer.ts).
 * The first and last records must still be reachable (End / Home, scrollbar drag, selection), the
 * rows contiguous and whole, and classroom mode must keep rows in view.
 */
import type { Locator, Page } from '@playwright/test';
import { makeElf } from '../src/machine/loaders/test-images.ts';
import { expect, test } from './fixtures.ts';

const WRITES = 1_600_000;

/** A multiboot kernel: `out 0x80, al` WRITES times, then exit 0 through port 0xF4. */
function loopGuest(n: number): Buffer {
  // mov ecx, n; l: out 0x80, al; dec ecx; jnz l; xor eax, eax; out 0xf4, al; hlt
  const code = [0xb9, n & 255, (n >> 8) & 255, (n >> 16) & 255, n >>> 24, 0xe6, 0x80, 0x49, 0x75, 0xfb];
  code.push(0x31, 0xc0, 0xe6, 0xf4, 0xf4);
  const elf = makeElf({
    entry: 0x100000,
    segments: [{ paddr: 0x100000, data: new Uint8Array(code) }],
    mbFlags: 0,
  });
  return Buffer.from(elf);
}

interface RowBox {
  seq: number;
  top: number;
  bottom: number;
}

/** The rows at least partly inside the scroller, top to bottom, and the scroller's box. */
function rowsInView(scroll: Locator) {
  return scroll.evaluate((el) => {
    const box = el.getBoundingClientRect();
    const rows: RowBox[] = [];
    for (const r of el.querySelectorAll('[data-testid=trap-row]')) {
      const b = r.getBoundingClientRect();
      if (b.bottom > box.top + 1 && b.top < box.bottom - 1) {
        rows.push({ seq: Number(r.querySelector('.c-idx')?.textContent), top: b.top, bottom: b.bottom });
      }
    }
    return { rows, top: box.top, bottom: box.top + el.clientHeight };
  });
}

/** The rows in view are consecutive records, whole rows of `rowH` px, with no gap or overlap. */
async function expectContiguous(scroll: Locator, rowH: number): Promise<RowBox[]> {
  const { rows } = await rowsInView(scroll);
  expect(rows.length).toBeGreaterThan(3);
  for (let i = 1; i < rows.length; i++) {
    expect(rows[i].seq).toBe(rows[i - 1].seq + 1);
    expect(Math.abs(rows[i].top - rows[i - 1].bottom)).toBeLessThan(0.6);
    expect(Math.abs(rows[i].bottom - rows[i].top - rowH)).toBeLessThan(0.6);
  }
  return rows;
}

/** The row of record `seq` is drawn entirely inside the scroller. */
async function expectWhollyVisible(scroll: Locator, seq: number): Promise<void> {
  await expect
    .poll(async () => {
      const v = await rowsInView(scroll);
      const r = v.rows.find((x) => x.seq === seq);
      return r !== undefined && r.top >= v.top - 0.6 && r.bottom <= v.bottom + 0.6;
    })
    .toBe(true);
}

/**
 * What dragging the scrollbar thumb to one end does: a run of scroll positions ending there.
 * (Playwright's headless Chromium hides scrollbars, so the thumb itself cannot be grabbed.)
 */
async function dragScrollbar(page: Page, scroll: Locator, to: 'top' | 'bottom'): Promise<void> {
  for (const f of to === 'bottom' ? [0.2, 0.6, 0.95, 1] : [0.8, 0.4, 0.05, 0]) {
    await scroll.evaluate((el, f) => {
      el.scrollTop = f * (el.scrollHeight - el.clientHeight);
    }, f);
    await page.waitForTimeout(30);
  }
}

test('a log past the browser height limit: first and last records reachable, rows contiguous', async ({
  page,
}) => {
  test.setTimeout(150_000);
  await page.setViewportSize({ width: 1280, height: 720 });
  await page.goto('/?guest=hello&technique=binary-translation&vms=1');
  await expect(page.getByTestId('status-note')).toHaveText('Loaded — press Run', { timeout: 60_000 });
  await page.getByTestId('open-file').click();
  await page.getByTestId('load-file').setInputFiles({
    name: 'port-loop.elf',
    mimeType: 'application/octet-stream',
    buffer: loopGuest(WRITES),
  });
  await page.getByTestId('load-submit').click();
  await expect(page.getByTestId('load-dialog')).toHaveCount(0);
  await expect(page.getByTestId('status-note')).toHaveText('Loaded — press Run', { timeout: 60_000 });
  await page.getByTestId('run-pause').click();
  await expect(page.getByTestId('stop-reason')).toContainText('exited', { timeout: 120_000 });

  const total = Number(await page.getByTestId('trap-total').getAttribute('data-total'));
  expect(total).toBeGreaterThan(1_500_000);
  const dropped = Number(await page.getByTestId('trap-total').getAttribute('data-dropped'));
  expect(dropped).toBeGreaterThan(0);
  const firstSeq = dropped;
  const lastSeq = total - 1;
  const scroll = page.getByTestId('trap-scroll');
  // The held rows are taller than the browser allows: the table's content is scaled.
  await expect(scroll.locator('[data-scaled=true]')).toHaveCount(1);

  // Following the tail, the last record's row is at the bottom, whole.
  await expect(page.getByTestId('follow')).toBeChecked();
  await expectWhollyVisible(scroll, lastSeq);
  await expectContiguous(scroll, 24);
  await page.screenshot({ path: 'test-results/long-log-tail.png' });

  // Home and End on the focused table.
  await scroll.focus();
  await page.keyboard.press('Home');
  await expectWhollyVisible(scroll, firstSeq);
  await expect(page.getByTestId('follow')).not.toBeChecked();
  expect((await expectContiguous(scroll, 24))[0].seq).toBe(firstSeq);
  await page.keyboard.press('End');
  await expectWhollyVisible(scroll, lastSeq);
  await expect(page.getByTestId('follow')).toBeChecked();

  // Select the last record; ↑ moves the selection, Home + click selects the first.
  const lastRow = scroll.locator('[data-testid=trap-row]', {
    has: page.locator(`.c-idx:text-is("${lastSeq}")`),
  });
  await lastRow.click();
  await expect(lastRow).toHaveAttribute('aria-selected', 'true');
  await expect(page.getByTestId('trap-detail')).toContainText(`Sequence${lastSeq}`);
  await page.keyboard.press('ArrowUp');
  const selected = scroll.locator('[data-testid=trap-row][aria-selected=true]');
  await expect(selected.locator('.c-idx')).toHaveText(String(lastSeq - 1));
  await page.keyboard.press('Home');
  const firstRow = scroll.locator('[data-testid=trap-row]', {
    has: page.locator(`.c-idx:text-is("${firstSeq}")`),
  });
  await firstRow.click();
  await expect(page.getByTestId('trap-detail')).toContainText(`Sequence${firstSeq}`);
  await page.keyboard.press('ArrowDown');
  await expect(selected.locator('.c-idx')).toHaveText(String(firstSeq + 1));
  await expectWhollyVisible(scroll, firstSeq + 1);
  await page.getByTestId('trap-detail').getByRole('button', { name: 'Close the detail' }).click();

  // The scrollbar, dragged to either end, reaches the last and the first record.
  await dragScrollbar(page, scroll, 'bottom');
  await expectWhollyVisible(scroll, lastSeq);
  await expectContiguous(scroll, 24);
  await dragScrollbar(page, scroll, 'top');
  await expectWhollyVisible(scroll, firstSeq);

  // Halfway down the scrollbar is halfway through the held records, rows still contiguous.
  await scroll.evaluate((el) => {
    el.scrollTop = (el.scrollHeight - el.clientHeight) / 2;
  });
  await expect
    .poll(async () => (await rowsInView(scroll)).rows[0]?.seq ?? 0)
    .toBeGreaterThan(firstSeq + (total - firstSeq) / 2 - 40);
  const mid = await expectContiguous(scroll, 24);
  expect(mid[0].seq).toBeLessThan(firstSeq + (total - firstSeq) / 2 + 40);
  await page.screenshot({ path: 'test-results/long-log-middle.png' });

  // Classroom mode (taller rows) keeps the same records in view, whole and contiguous.
  await page.locator('body').press('c');
  await expect.poll(async () => (await rowsInView(scroll)).rows.length).toBeGreaterThan(3);
  const big = await expectContiguous(scroll, 32);
  expect(Math.abs(big[0].seq - mid[0].seq)).toBeLessThan(15);
  await scroll.focus();
  await page.keyboard.press('End');
  await expectWhollyVisible(scroll, lastSeq);
  await expectContiguous(scroll, 32);
  await page.screenshot({ path: 'test-results/long-log-classroom-end.png' });
  await page.locator('body').press('c');
  await expectWhollyVisible(scroll, lastSeq);
});
