/**
 * The console's renderer: xterm draws with WebGL only where a GPU runs it. Playwright's chromium
 * runs without a GPU (--disable-gpu: WebGL2 exists but is SwiftShader, software), so the console
 * must have chosen xterm's DOM renderer, with the guest's text in real row elements; the
 * `traplab.renderer` setting still forces WebGL (a canvas, the same text on screen).
 */
import { expect, test } from './fixtures.ts';
import { consoleText } from './helpers.ts';

const GREETING = 'Hello from TrapLab! This guest runs in 32-bit protected mode.';

test('without a GPU the console draws with the DOM renderer; the setting forces WebGL', async ({ page }) => {
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
  await page.getByTestId('run-pause').click();
  await expect.poll(() => consoleText(page)).toContain(GREETING);
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
