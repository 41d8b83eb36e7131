import type { Page } from '@playwright/test';

/** The text xterm shows for VM `vm` (rows joined with newlines, trailing blanks trimmed). */
export async function consoleText(page: Page, vm = 0): Promise<string> {
  return page.getByTestId(`console-${vm}`).evaluate((el) => {
    // The console publishes its screen's text: a WebGL-drawn terminal has no row elements.
    const own = (el as HTMLElement & { traplabText?: () => string }).traplabText;
    if (own) return own().replace(/ +$/gm, '');
    const rows = el.querySelectorAll('.xterm-rows > div');
    return Array.from(rows, (r) => (r.textContent ?? '').replace(/\u00a0/g, ' ').trimEnd()).join('\n');
  });
}

/** Every line still in a console's buffer (scrollback included, wrapped rows rejoined). */
export async function consoleLines(page: Page, vm = 0): Promise<string> {
  return page
    .getByTestId(`console-${vm}`)
    .evaluate((el) =>
      (el as HTMLElement & { traplabLines: () => string }).traplabLines().replace(/ +$/gm, ''),
    );
}

/** Instructions retired so far, as the Stats panel shows it (exact below 10,000, else rounded). */
export async function statusNote(page: Page): Promise<string> {
  return (await page.getByTestId('status-note').textContent()) ?? '';
}

/**
 * The console's text without the blank rows below the cursor (xterm always shows every row), so a
 * line the guest is still writing on — a shell prompt — is the last line.
 */
export async function consoleTail(page: Page, vm = 0): Promise<string> {
  return (await consoleText(page, vm)).replace(/\s+$/, '');
}

/**
 * The last non-blank line of VM `vm`'s console: the line a shell prompt sits on while the shell
 * waits for input (xterm keeps no trailing blank, so `guest# ` reads as `guest#`).
 */
export async function consoleLastLine(page: Page, vm = 0): Promise<string> {
  const tail = await consoleTail(page, vm);
  return tail.slice(tail.lastIndexOf('\n') + 1);
}

/**
 * The Linux guest is at its shell and done with boot messages: the `guest# ` prompt, then — at a
 * fixed virtual time, before any input — the kernel's switch to the TSC clocksource, printed after
 * the prompt. From then on the kernel stays quiet for ~250 virtual seconds (until "random: crng
 * init done"), so what a test types and reads is not interleaved with kernel lines.
 */
/** The status bar once a guest has written 0 to the debug-exit port (exit status 1: success). */
export const EXITED_OK = 'The guest has exited — the guest reported success (it wrote 0 to port 0xF4)';
export const LINUX_SHELL_READY = /^guest#.*\n(?:.*\n)*clocksource: Switched to clocksource tsc$/m;
