/**
 * Type 1 and Type 2 (issue 18): trapdemo under trap-and-emulate, hosted by minikernel-host. The
 * link carries hosting=type2; the guest's console shows trapdemo's output; the Hosting tab draws
 * the stack with the run's counters, the host's shell answers ps, a selected host record lights
 * its hops, and the Type 1 vs Type 2 table comes from the worker.
 */

import { expect, test } from './fixtures.ts';
import { consoleText } from './helpers.ts';

test('trapdemo hosted (Type 2): stack diagram, host shell, Type 1 vs Type 2 table', async ({ page }) => {
  test.setTimeout(120_000);
  await page.setViewportSize({ width: 1280, height: 720 });
  await page.goto('/?guest=trapdemo&technique=trap-and-emulate&vms=1&hosting=type2');
  await expect(page.getByTestId('status-note')).toHaveText('Loaded — press Run', { timeout: 30_000 });
  await expect(page.getByTestId('hosting-select')).toHaveValue('type2');

  await page.getByTestId('hosting-tab').click();
  await page.getByTestId('run-pause').click();
  await expect(page.getByTestId('status-note')).toContainText('exited', { timeout: 90_000 });
  expect(await consoleText(page)).toContain('[trapdemo] done');

  const stack = page.getByTestId('stack-diagram');
  await expect(stack).toContainText('VMApp');
  await expect(page.getByTestId('hosting-panel')).toContainText('Type 2 (hosted)');
  const sw = (await page.getByTestId('hop-switch').locator('.hs-count').textContent()) ?? '';
  expect(Number(/^(\d+) in/.exec(sw)?.[1] ?? 0)).toBeGreaterThan(1000);
  await expect(page.getByTestId('host-console')).toContainText('host$');

  // A host world switch selected in the log lights the world-switch hop; a host system call, the
  // VMApp → host kernel hop.
  const rows = page.getByTestId('trap-row');
  await rows.filter({ hasText: 'host world switch' }).last().click();
  await expect(page.getByTestId('hop-switch')).toHaveClass(/hot/);
  await expect(page.getByTestId('hop-syscall')).not.toHaveClass(/hot/);
  await rows.filter({ hasText: 'host system call' }).last().click();
  await expect(page.getByTestId('hop-syscall')).toHaveClass(/hot/);
  await page.screenshot({ path: 'test-results/hosting-stack.png' });

  await page.getByTestId('hosting-compare').click();
  const table = page.getByTestId('hosting-table');
  await expect(table).toBeVisible({ timeout: 60_000 });
  await expect(table).toContainText('world switches per guest I/O');
  await table.scrollIntoViewIfNeeded();
  await page.screenshot({ path: 'test-results/hosting-compare.png' });
});
