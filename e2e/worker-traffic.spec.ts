/**
 * What the page and the emulator worker send each other while four VMs run flat out (issue 11:
 * with two cores, every message either side builds and nobody reads competes with drawing).
 * Structure, not speed: frames carry no trap rows while nothing in the page reads them (only that
 * the log grew), and the trap table following the log's end gets its rows in one round trip per
 * update, never an empty reply that only tells it where the end is.
 */
import { expect, test } from './fixtures.ts';

interface Traffic {
  frames: number;
  framesGrew: number;
  framesWithRows: number;
  sliceRequests: number;
  sliceReplies: number;
  /** Replies without a row although the log (as filtered) held records. */
  emptySliceReplies: number;
}

test('four VMs flat out: frames carry no trap rows, the following table one request per update', async ({
  page,
}) => {
  test.setTimeout(120_000);
  await page.setViewportSize({ width: 1920, height: 1080 });
  // Count the emulator worker's messages both ways, beside the page's own handlers.
  await page.addInitScript(() => {
    const t: Traffic = {
      frames: 0,
      framesGrew: 0,
      framesWithRows: 0,
      sliceRequests: 0,
      sliceReplies: 0,
      emptySliceReplies: 0,
    };
    (window as unknown as { __traffic: Traffic }).__traffic = t;
    const Base = window.Worker;
    window.Worker = class extends Base {
      constructor(url: string | URL, opts?: WorkerOptions) {
        super(url, opts);
        this.addEventListener('message', (e: MessageEvent) => {
          const m = e.data as { type?: string; trapsGrew?: boolean; traps?: unknown; total?: number };
          if (m?.type === 'frame') {
            t.frames++;
            if (m.trapsGrew) t.framesGrew++;
            if (m.traps) t.framesWithRows++;
          } else if (m?.type === 'trapSlice') {
            t.sliceReplies++;
            const rows = (m as { rows: { index: Uint32Array } }).rows.index.length;
            if (rows === 0 && (m.total ?? 0) > 0) t.emptySliceReplies++;
          }
        });
      }
      override postMessage(m: unknown, transfer?: Transferable[] | StructuredSerializeOptions): void {
        if ((m as { type?: string })?.type === 'trapSlice') t.sliceRequests++;
        super.postMessage(m, transfer as Transferable[]);
      }
    };
  });
  await page.goto('/?guest=trapdemo-probe&technique=trap-and-emulate&vms=4');
  const loaded = page.getByTestId('status-note').filter({ hasText: 'Loaded — press Run' });
  const toast = page.getByTestId('toast');
  await expect(loaded.or(toast).first()).toBeVisible({ timeout: 30_000 });
  test.skip(await toast.isVisible(), 'trap-and-emulate is not available in this build');
  await expect(page.getByTestId('follow')).toBeChecked();
  await page.getByTestId('run-pause').click();
  // The probe's four VMs power off by themselves after ~23 k records.
  await expect(page.getByTestId('statusbar')).toHaveAttribute('data-running', 'no', { timeout: 60_000 });
  const total = Number(await page.getByTestId('trap-total').getAttribute('data-total'));
  expect(total).toBeGreaterThan(10_000);
  // The table shows the log's last record once the run has stopped.
  await expect(page.getByTestId('trap-row').last()).toContainText(String(total - 1));
  const t = await page.evaluate(() => (window as unknown as { __traffic: Traffic }).__traffic);
  test.info().annotations.push({ type: 'traffic', description: JSON.stringify({ total, ...t }) });
  expect.soft(t.framesWithRows, 'frames that carried trap rows nobody reads').toBe(0);
  expect.soft(t.emptySliceReplies, 'trap-table round trips that brought no row').toBe(0);
  expect(t.framesGrew, 'frames that said the log grew').toBeGreaterThan(0);
  expect(t.sliceRequests).toBeGreaterThan(0);
  expect(t.sliceReplies).toBe(t.sliceRequests);
});

test('the on-CPU mark moves from VM to VM without adding or removing an element', async ({ page }) => {
  test.setTimeout(120_000);
  await page.setViewportSize({ width: 1920, height: 1080 });
  await page.goto('/?guest=trapdemo-probe&technique=trap-and-emulate&vms=4');
  const loaded = page.getByTestId('status-note').filter({ hasText: 'Loaded — press Run' });
  const toast = page.getByTestId('toast');
  await expect(loaded.or(toast).first()).toBeVisible({ timeout: 30_000 });
  test.skip(await toast.isVisible(), 'trap-and-emulate is not available in this build');
  // Moving the mark changes a class and a visibility (a repaint); an element added to or removed
  // from a console's label laid out the whole page each time.
  await page.evaluate(() => {
    const w = window as unknown as { __marks: { moves: number; labelNodes: number } };
    w.__marks = { moves: 0, labelNodes: 0 };
    new MutationObserver((list) => {
      for (const m of list) {
        const el = m.target as Element;
        if (m.type === 'attributes' && el.classList.contains('console')) w.__marks.moves++;
        else if (m.type === 'childList' && el.closest('.console-label')) w.__marks.labelNodes++;
      }
    }).observe(document.querySelector('[data-testid=consoles]')!, {
      subtree: true,
      childList: true,
      attributes: true,
      attributeFilter: ['class'],
    });
  });
  await page.getByTestId('run-pause').click();
  await expect(page.getByTestId('statusbar')).toHaveAttribute('data-running', 'no', { timeout: 60_000 });
  const marks = await page.evaluate(
    () => (window as unknown as { __marks: { moves: number; labelNodes: number } }).__marks,
  );
  test.info().annotations.push({ type: 'marks', description: JSON.stringify(marks) });
  expect(marks.moves, 'times the mark moved').toBeGreaterThan(0);
  expect(marks.labelNodes, 'elements added to or removed from console labels').toBe(0);
  // One VM is marked, and only its badge shows.
  await expect(page.locator('.console[data-on-cpu]')).toHaveCount(1);
  await expect(page.locator('.console[data-on-cpu] .on-cpu-badge')).toBeVisible();
  await expect(page.locator('.console:not([data-on-cpu]) .on-cpu-badge').first()).toBeHidden();
  await expect(page.locator('.console:not([data-on-cpu]) .on-cpu-badge')).toHaveCount(3);
});
