/**
 * `npm install && npm run dev` is the README's first command: the Vite dev server must serve every
 * guest image (bzImage has no extension, and Vite used to run it through import analysis and answer
 * 500). The dev-server project runs this file against `vite`; the default project against the build.
 */
import { statSync } from 'node:fs';
import { expect, test } from './fixtures.ts';
import { consoleTail, consoleText, LINUX_SHELL_READY } from './helpers.ts';

// The committed files; dev serves them by name, the build as <name>-<hash>.<ext>.
const LINUX_FILES = { bzImage: 'guests/linux/bzImage', initramfs: 'guests/linux/initramfs.cpio' };
const IMAGE_URL = /\/(bzImage|initramfs)(?:-[\w-]+)?(?:\.\w+)?$/;

test('Linux loads from the server, boots to its shell and runs a command', async ({ page }) => {
  test.setTimeout(180_000);
  const images: { file: keyof typeof LINUX_FILES; status: number; type?: string; bytes: number }[] = [];
  page.on('response', async (r) => {
    // The images themselves, not the `?url` modules that name them.
    const m = IMAGE_URL.exec(r.url());
    if (!m) return;
    const body = await r.body().catch(() => Buffer.alloc(0));
    const file = m[1] as keyof typeof LINUX_FILES;
    images.push({ file, status: r.status(), type: r.headers()['content-type'], bytes: body.length });
  });
  await page.goto('/?guest=linux&technique=native&vms=1');
  await expect(page.getByTestId('status-note')).toHaveText('Loaded — press Run', { timeout: 60_000 });
  // Both images arrived whole, as binaries (React's StrictMode may load a guest twice in dev).
  await expect.poll(() => [...new Set(images.map((i) => i.file))].sort()).toEqual(['bzImage', 'initramfs']);
  for (const i of images) {
    expect(i.status, i.file).toBe(200);
    expect(i.type, i.file).toBe('application/octet-stream');
    expect(i.bytes, i.file).toBe(statSync(LINUX_FILES[i.file]).size);
  }

  await page.getByTestId('run-pause').click();
  await expect
    .poll(() => consoleText(page), { timeout: 150_000, intervals: [250] })
    .toMatch(LINUX_SHELL_READY);
  await page.getByTestId('console-0').click();
  await page.keyboard.type('uname -sr');
  await page.keyboard.press('Enter');
  await expect
    .poll(() => consoleText(page), { timeout: 30_000 })
    .toMatch(/^uname -sr\nLinux 6\.1\.\d+\nguest#/m);
  await page.screenshot({ path: `test-results/${test.info().project.name}-linux.png` });
});

test('a teaching kernel loads from the server and runs to its exit under trap-and-emulate', async ({
  page,
}) => {
  await page.goto('/?guest=trapdemo&technique=trap-and-emulate&vms=1');
  await expect(page.getByTestId('status-note')).toHaveText('Loaded — press Run', { timeout: 30_000 });
  await page.getByTestId('run-pause').click();
  await expect(page.getByTestId('status-note')).toContainText('exited', { timeout: 60_000 });
  expect(await consoleTail(page)).toMatch(/\[trapdemo\] done$/);
  await expect(page.getByTestId('trap-row').first()).toBeVisible();
});
