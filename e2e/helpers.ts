import type { Page } from '@playwright/test';

/** The text xterm shows for VM `vm` (rows joined with newlines, trailing blanks trimmed). */
export async function consoleText(page: Page, vm = 0): Promise<string> {
  return page.getByTestId(`console-${vm}`).evaluate((el) => {
    const rows = el.querySelectorAll('.xterm-rows > div');
    return Array.from(rows, (r) => (r.textContent ?? '').replace(/\u00a0/g, ' ').trimEnd()).join('\n');
  });
}

/** Instructions retired so far, as the Stats panel shows it (exact below 10,000, else rounded). */
export async function statusNote(page: Page): Promise<string> {
  return (await page.getByTestId('status-note').textContent()) ?? '';
}
