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
