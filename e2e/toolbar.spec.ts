/**
 * The toolbar at a projector's 1280×720 and at 1920×1080: every control whole (no select shows a
 * cut-off choice, no button clips its label, nothing leaves the window or overlaps), looked at in
 * screenshots; and the machine picker (the CLI's `--machine`), carried by share links.
 */
import type { Page } from '@playwright/test';
import { expect, test } from './fixtures.ts';

interface Clip {
  what: string;
  need: number;
  have: number;
}

/** Controls in the toolbar whose content does not fit their box, and boxes outside the window. */
function clippedControls(page: Page): Promise<{ clipped: Clip[]; outside: string[]; overlaps: string[] }> {
  return page.evaluate(() => {
    const bar = document.querySelector('[data-testid=app] > header.toolbar')!;
    const ctx = document.createElement('canvas').getContext('2d')!;
    const name = (el: Element) =>
      el.getAttribute('data-testid') ?? el.getAttribute('aria-label') ?? el.textContent?.trim() ?? el.tagName;
    const clipped: Clip[] = [];
    const outside: string[] = [];
    const controls = Array.from(bar.querySelectorAll<HTMLElement>('select, button, a')).filter(
      (el) => el.offsetParent !== null,
    );
    for (const el of controls) {
      const r = el.getBoundingClientRect();
      if (r.left < 0 || r.right > window.innerWidth + 0.5 || r.top < 0) outside.push(name(el));
      if (el instanceof HTMLSelectElement) {
        // The guest picker yields first by design (its full title is in the banner below it).
        if (el.dataset.testid === 'guest-select') {
          if (el.clientWidth < 100) clipped.push({ what: name(el), need: 100, have: el.clientWidth });
          continue;
        }
        // The chosen option's text, in the select's font, plus its padding and the arrow (~20 px).
        const cs = getComputedStyle(el);
        ctx.font = `${cs.fontWeight} ${cs.fontSize} ${cs.fontFamily}`;
        const text = el.selectedOptions[0]?.textContent ?? '';
        const need =
          ctx.measureText(text).width +
          Number.parseFloat(cs.paddingLeft) +
          Number.parseFloat(cs.paddingRight) +
          18;
        if (need > el.clientWidth + 0.5)
          clipped.push({ what: `${name(el)}: ${text}`, need, have: el.clientWidth });
      } else if (el.scrollWidth > el.clientWidth + 1) {
        clipped.push({ what: name(el), need: el.scrollWidth, have: el.clientWidth });
      }
    }
    const overlaps: string[] = [];
    const boxes = controls.map((el) => [name(el), el.getBoundingClientRect()] as const);
    for (let i = 0; i < boxes.length; i++)
      for (let j = i + 1; j < boxes.length; j++) {
        const [a, p] = boxes[i];
        const [b, q] = boxes[j];
        const w = Math.min(p.right, q.right) - Math.max(p.left, q.left);
        const h = Math.min(p.bottom, q.bottom) - Math.max(p.top, q.top);
        if (w > 1 && h > 1) overlaps.push(`${a} × ${b}`);
      }
    return { clipped, outside, overlaps };
  });
}

for (const [width, height] of [
  [1280, 720],
  [1920, 1080],
] as const) {
  for (const classroom of [false, true]) {
    test(`toolbar at ${width}×${height}${classroom ? ' (classroom)' : ''}: every control whole`, async ({
      page,
    }) => {
      await page.addInitScript((on) => localStorage.setItem('traplab.classroom', on ? '1' : '0'), classroom);
      await page.setViewportSize({ width, height });
      // The longest technique label, and several VMs so every control is enabled.
      await page.goto('/?guest=trapdemo&technique=hardware-assisted&vms=2');
      await expect(page.getByTestId('status-note')).toHaveText('Loaded — press Run', { timeout: 30_000 });
      await expect(page.getByTestId('technique-select')).toHaveValue('hardware-assisted');
      const r = await clippedControls(page);
      await page
        .locator('header.toolbar')
        .screenshot({ path: `test-results/toolbar-${width}${classroom ? '-classroom' : ''}.png` });
      expect(r.clipped, 'controls whose content is cut off').toEqual([]);
      expect(r.outside, 'controls outside the window').toEqual([]);
      expect(r.overlaps, 'controls on top of each other').toEqual([]);
      // Native: the machine picker is enabled and its longest choice reads whole too.
      await page.getByTestId('technique-select').selectOption('native');
      await expect(page.getByTestId('status-note')).toHaveText('Loaded — press Run', { timeout: 30_000 });
      await page.getByTestId('machine-select').selectOption('pc-fpu-apic');
      await expect(page.getByTestId('machine-pill')).toBeVisible({ timeout: 30_000 });
      expect((await clippedControls(page)).clipped).toEqual([]);
    });
  }
}

test('machine picker: native only, explained, loaded by the worker, carried by the link', async ({
  page,
}) => {
  await page.setViewportSize({ width: 1280, height: 720 });
  await page.goto('/?guest=hello&technique=native&vms=1');
  await expect(page.getByTestId('status-note')).toHaveText('Loaded — press Run', { timeout: 30_000 });
  const picker = page.getByTestId('machine-select');
  await expect(picker).toHaveValue('pc');
  await expect(picker).toHaveAttribute('title', /no x87 FPU and no local APIC/);
  // Each choice says what it adds.
  const titles = await picker.locator('option').evaluateAll((os) => os.map((o) => o.getAttribute('title')));
  expect(titles).toHaveLength(4);
  for (const t of titles) expect(t?.length).toBeGreaterThan(30);

  await picker.selectOption('pc-fpu');
  await expect(page).toHaveURL(/[?&]machine=pc-fpu(&|$)/);
  // The pill comes from the worker's `loaded` reply: the session was built with the x87.
  await expect(page.getByTestId('machine-pill')).toHaveText('PC + x87 FPU', { timeout: 30_000 });
  await expect(picker).toHaveAttribute('title', /x87 FPU: CPUID reports it/);

  // A shared link rebuilds the same machine.
  await page.goto('/?guest=hello&technique=native&vms=1&machine=pc-apic');
  await expect(page.getByTestId('machine-pill')).toHaveText('PC + local APIC', { timeout: 30_000 });
  await expect(picker).toHaveValue('pc-apic');

  // Under a VMM every VM is the plain PC: the hosting picker takes the machine picker's place
  // (the two never apply together) and the link drops the machine.
  await page.getByTestId('technique-select').selectOption('trap-and-emulate');
  await expect(page.getByTestId('status-note')).toHaveText('Loaded — press Run', { timeout: 30_000 });
  await expect(picker).toHaveCount(0);
  await expect(page.getByTestId('hosting-select')).toHaveValue('type1');
  await expect(page.getByTestId('machine-pill')).toHaveCount(0);
  expect(new URL(page.url()).searchParams.has('machine')).toBe(false);
});
