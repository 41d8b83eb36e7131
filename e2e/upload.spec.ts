import { expect, test } from './fixtures.ts';
import { consoleText } from './helpers.ts';

test('a malformed guest file gets a clear error and the page stays usable', async ({ page }) => {
  await page.goto('/?guest=hello&technique=native&vms=1');
  await expect(page.getByTestId('status-note')).toHaveText('Loaded — press Run');
  await page.getByTestId('open-file').click();
  await expect(page.getByTestId('load-dialog')).toBeVisible();
  await page.getByTestId('load-file').setInputFiles({
    name: 'not-a-kernel.bin',
    mimeType: 'application/octet-stream',
    buffer: Buffer.from('this is plainly not a kernel image, just some text\n'.repeat(40)),
  });
  await page.getByTestId('load-submit').click();
  const err = page.getByTestId('load-error');
  await expect(err).toBeVisible();
  await expect(err).toContainText('not-a-kernel.bin');
  await page.screenshot({ path: 'test-results/upload-error.png' });

  // An empty file is refused before it reaches the emulator.
  await page
    .getByTestId('load-file')
    .setInputFiles({ name: 'empty.elf', mimeType: 'application/octet-stream', buffer: Buffer.alloc(0) });
  await page.getByTestId('load-submit').click();
  await expect(err).toHaveText('empty.elf is empty (0 bytes).');

  // Close the dialog: the previous guest is still loaded and runs.
  await page.keyboard.press('Escape');
  await expect(page.getByTestId('load-dialog')).toHaveCount(0);
  await page.getByTestId('run-pause').click();
  await expect.poll(() => consoleText(page)).toContain('Hello from TrapLab!');
});

test('a guest loaded from disk runs like a built-in one', async ({ page }) => {
  await page.goto('/?guest=hello&technique=native&vms=1');
  await expect(page.getByTestId('status-note')).toHaveText('Loaded — press Run');
  await page.getByTestId('open-file').click();
  await page.getByTestId('load-file').setInputFiles('guests/hello/hello.elf');
  await page.getByTestId('load-submit').click();
  await expect(page.getByTestId('load-dialog')).toHaveCount(0);
  await expect(page.getByTestId('guest-select')).toHaveValue('__upload');
  await expect(page.getByTestId('guest-banner')).toContainText('hello.elf');
  await page.getByTestId('run-pause').click();
  await expect.poll(() => consoleText(page)).toContain('Hello from TrapLab!');
});
