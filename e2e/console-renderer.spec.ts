/**
 * The console's renderer: xterm draws with WebGL only where a GPU runs it. Playwright's chromium
 * runs without a GPU (--disable-gpu: WebGL2 exists but is SwiftShader, software), so the console
 * must have chosen xterm's DOM renderer, with the guest's text in real row elements; the
 * `traplab.renderer` setting still forces WebGL (a canvas, the same text on screen). The DOM
 * renderer learns each glyph's width at load, not while the guest prints (see warmGlyphWidths).
 */
import { expect, test } from './fixtures.ts';
import { consoleText } from './helpers.ts';

const GREETING = 'Hello from TrapLab! This guest runs in 32-bit protected mode.';

test('without a GPU the console draws with the DOM renderer; the setting forces WebGL', async ({ page }) => {
  // Count xterm's glyph-width measurements (each a forced style recalculation and layout).
  await page.addInitScript(() => {
    const d = Object.getOwnPropertyDescriptor(HTMLElement.prototype, 'offsetWidth')!;
    const w = window as unknown as { __measured: string[] };
    w.__measured = [];
    Object.defineProperty(HTMLElement.prototype, 'offsetWidth', {
      get(this: HTMLElement) {
        if (this.classList.contains('xterm-char-measure-element'))
          w.__measured.push(this.textContent?.[0] ?? '');
        return d.get!.call(this);
      },
    });
  });
  const measured = () => page.evaluate(() => (window as unknown as { __measured: string[] }).__measured);
  await page.goto('/?guest=hello&technique=native&vms=1');
  await expect(page.getByTestId('status-note')).toHaveText('Loaded — press Run');
  // What WebGL2 runs on here (Chrome reports SwiftShader even to `failIfMajorPerformanceCaveat`).
  const glRenderer = await page.evaluate(() => {
    const gl = document.createElement('canvas').getContext('webgl2');
    const info = gl?.getExtension('WEBGL_debug_renderer_info');
    return gl && info ? String(gl.getParameter(info.UNMASKED_RENDERER_WEBGL)) : 'none';
  });
  test.skip(
    !/swiftshader|llvmpipe|software|none/i.test(glRenderer),
    `WebGL runs on a GPU here (${glRenderer})`,
  );
  const con = page.getByTestId('console-0');
  await expect(con).toHaveAttribute('data-renderer', 'dom');
  // Before Run, the console measured every printable ASCII character once (drawn concealed, then
  // cleared: the screen is blank), so the guest's output costs no measuring while it runs.
  await expect
    .poll(async () => new Set(await measured()).size, { message: 'glyph widths measured at load' })
    .toBeGreaterThanOrEqual(95);
  await expect.poll(() => consoleText(page)).toMatch(/^\s*$/);
  const before = (await measured()).length;
  await page.getByTestId('run-pause').click();
  await expect.poll(() => consoleText(page)).toContain(GREETING);
  expect((await measured()).slice(before), 'glyphs measured while the guest ran').toEqual([]);
  // The DOM renderer: the greeting is in the row elements themselves, and no WebGL canvas exists.
  await expect(con.locator('.xterm-rows')).toContainText(GREETING);
  await expect(con.locator('canvas')).toHaveCount(0);

  await page.evaluate(() => localStorage.setItem('traplab.renderer', 'webgl'));
  await page.goto('/?guest=hello&technique=native&vms=1');
  await expect(page.getByTestId('status-note')).toHaveText('Loaded — press Run');
  await expect(con).toHaveAttribute('data-renderer', 'webgl');
  await page.getByTestId('run-pause').click();
  await expect.poll(() => consoleText(page)).toContain(GREETING);
  await expect(con.locator('.xterm-screen canvas').first()).toBeVisible();
  await page.evaluate(() => localStorage.removeItem('traplab.renderer'));
});

test('a console that scrolls draws its rows once a frame, and a drag still selects text', async ({
  page,
}) => {
  // xterm answers every scroll with a selection refresh that, in its DOM renderer, draws every row
  // again in the frame that draws them anyway; with no selection the console skips it (Consoles.tsx).
  await page.setViewportSize({ width: 1280, height: 720 });
  await page.goto('/?guest=trapdemo-probe&technique=trap-and-emulate&vms=4');
  const loaded = page.getByTestId('status-note').filter({ hasText: 'Loaded — press Run' });
  const toast = page.getByTestId('toast');
  await expect(loaded.or(toast).first()).toBeVisible({ timeout: 30_000 });
  test.skip(await toast.isVisible(), 'trap-and-emulate is not available in this build');
  const con = page.getByTestId('console-0');
  test.skip((await con.getAttribute('data-renderer')) !== 'dom', 'the DOM renderer is not in use');
  // Row redraws (a row's children replaced) per animation frame, in VM 0's console.
  await page.evaluate(() => {
    const w = window as unknown as { __rowDraws: Map<number, number>; __frame: number };
    w.__rowDraws = new Map();
    w.__frame = 0;
    const tick = () => {
      w.__frame++;
      requestAnimationFrame(tick);
    };
    requestAnimationFrame(tick);
    const rows = document.querySelector('[data-testid=console-0] .xterm-rows')!;
    new MutationObserver((l) => {
      let n = 0;
      for (const m of l) if (m.target.parentElement === rows && m.type === 'childList') n++;
      w.__rowDraws.set(w.__frame, (w.__rowDraws.get(w.__frame) ?? 0) + n);
    }).observe(rows, { subtree: true, childList: true });
  });
  await page.getByTestId('run-pause').click();
  await expect
    .poll(() => con.evaluate((el) => (el as HTMLElement & { traplabLines(): string }).traplabLines()), {
      timeout: 60_000,
    })
    .toContain('[trapdemo] done');
  const rows = await con.evaluate((el) => (el as HTMLElement & { traplabRows(): number }).traplabRows());
  const draws = await page.evaluate(() => [
    ...(window as unknown as { __rowDraws: Map<number, number> }).__rowDraws.values(),
  ]);
  // The guest printed more lines than the console has rows: it scrolled.
  const lines = (await con.evaluate((el) => (el as HTMLElement & { traplabLines(): string }).traplabLines()))
    .split('\n')
    .filter((x) => x.trim()).length;
  expect(lines).toBeGreaterThan(rows);
  // A drawing replaces a row's children (one mutation record): at most once per row and frame
  // (xterm's own selection refresh drew every row a second time: 2 × rows).
  expect(draws.length, 'frames that drew rows').toBeGreaterThan(0);
  expect(Math.max(...draws), `row drawings in one frame (${rows} rows)`).toBeLessThanOrEqual(rows);

  // Selecting still works: a drag highlights, a click elsewhere clears it.
  const box = (await con.locator('.xterm-screen').boundingBox())!;
  await page.mouse.move(box.x + 10, box.y + 10);
  await page.mouse.down();
  await page.mouse.move(box.x + box.width / 2, box.y + 40, { steps: 5 });
  await page.mouse.up();
  await expect(con.locator('.xterm-selection > div').first()).toBeVisible();
  await page.mouse.click(box.x + box.width / 2, box.y + box.height - 5);
  await expect(con.locator('.xterm-selection > div')).toHaveCount(0);
});
