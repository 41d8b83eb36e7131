import { expect, test } from './fixtures.ts';
import { consoleText } from './helpers.ts';

test('the page stays responsive while a guest runs flat out (frame cadence, measured)', async ({ page }) => {
  await page.goto('/?guest=minikernel&technique=native&vms=1');
  await expect(page.getByTestId('status-note')).toHaveText('Loaded — press Run');
  await page.getByTestId('run-pause').click();
  await expect.poll(() => consoleText(page), { timeout: 30_000 }).toContain('mini$');
  // Animation-frame intervals on the main thread over 2 s of flat-out emulation in the worker.
  const gaps = await page.evaluate(
    () =>
      new Promise<number[]>((resolve) => {
        const out: number[] = [];
        let last = performance.now();
        const end = last + 2000;
        const tick = (t: number) => {
          out.push(t - last);
          last = t;
          if (t < end) requestAnimationFrame(tick);
          else resolve(out);
        };
        requestAnimationFrame(tick);
      }),
  );
  const sorted = [...gaps].sort((a, b) => a - b);
  const pct = (p: number) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];
  const summary = `frames ${gaps.length} in 2 s; interval p50 ${pct(0.5).toFixed(1)} ms, p95 ${pct(0.95).toFixed(1)} ms, max ${sorted.at(-1)!.toFixed(1)} ms; over 50 ms: ${gaps.filter((g) => g > 50).length}`;
  console.log(`frame cadence while running: ${summary}`);
  test.info().annotations.push({ type: 'frame cadence', description: summary });
  // Still running, and the UI kept up: the worker is doing the work.
  await expect(page.getByTestId('statusbar')).toHaveAttribute('data-running', 'yes');
  expect(gaps.length).toBeGreaterThan(10);
  await page.keyboard.press('Escape');
  await page.getByTestId('run-pause').click();
  await expect(page.getByTestId('status-note')).toHaveText('Paused');
});

test('classroom mode enlarges everything and survives a reload', async ({ page }) => {
  await page.goto('/?guest=hello&technique=native&vms=1');
  await expect(page.getByTestId('status-note')).toHaveText('Loaded — press Run');
  await page.locator('body').press('c');
  await expect
    .poll(() => page.evaluate(() => getComputedStyle(document.documentElement).fontSize))
    .toBe('17px');
  await page.getByTestId('run-pause').click();
  await expect.poll(() => consoleText(page)).toContain('Hello from TrapLab!');
  await page.screenshot({ path: 'test-results/classroom.png' });
  await page.reload();
  await expect.poll(() => page.evaluate(() => document.documentElement.dataset.classroom)).toBe('on');
});

test('pause takes effect quickly while a guest runs flat out (measured over 8 pauses)', async ({ page }) => {
  await page.goto('/?guest=minikernel&technique=native&vms=1');
  await expect(page.getByTestId('status-note')).toHaveText('Loaded — press Run', { timeout: 30_000 });
  const samples: number[] = [];
  const instr = async () => Number(await page.getByTestId('statusbar').getAttribute('data-instructions'));
  for (let i = 0; i < 8; i++) {
    await page.getByTestId('run-pause').click();
    await expect(page.getByTestId('statusbar')).toHaveAttribute('data-running', 'yes');
    await page.waitForTimeout(300);
    // Click → the page shows the worker stopped (one frame included); reported, not asserted.
    samples.push(
      await page.evaluate(async () => {
        const bar = document.querySelector('[data-testid=statusbar]')!;
        const btn = document.querySelector<HTMLButtonElement>('[data-testid=run-pause]')!;
        const done = new Promise<number>((resolve) => {
          const mo = new MutationObserver(() => {
            if (bar.getAttribute('data-running') === 'no') {
              mo.disconnect();
              resolve(performance.now());
            }
          });
          mo.observe(bar, { attributes: true, attributeFilter: ['data-running'] });
        });
        const t0 = performance.now();
        btn.click();
        return (await done) - t0;
      }),
    );
    // Paused means paused: the instruction count no longer moves.
    await expect(page.getByTestId('status-note')).toHaveText('Paused');
    const a = await instr();
    await page.waitForTimeout(100);
    expect(await instr()).toBe(a);
  }
  const s = [...samples].sort((a, b) => a - b);
  const summary = `pause latency over ${s.length} pauses (minikernel, native): min ${s[0].toFixed(1)} ms, median ${s[s.length >> 1].toFixed(1)} ms, max ${s.at(-1)!.toFixed(1)} ms`;
  console.log(summary);
  test.info().annotations.push({ type: 'pause latency', description: summary });
});
