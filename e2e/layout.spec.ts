/**
 * Classroom layout, measured: a projector is 1280×720 or 1920×1080 and the page is 17 px-based.
 * Every check reads element boxes, so a layout that hides what a student needs fails here.
 */
import type { Page } from '@playwright/test';
import { expect, test } from './fixtures.ts';
import { consoleText } from './helpers.ts';

async function classroom(page: Page, width: number, height: number, url: string) {
  await page.addInitScript(() => localStorage.setItem('traplab.classroom', '1'));
  await page.setViewportSize({ width, height });
  await page.goto(url);
  await expect(page.getByTestId('status-note')).toHaveText('Loaded — press Run', { timeout: 30_000 });
  await expect
    .poll(() => page.evaluate(() => getComputedStyle(document.documentElement).fontSize))
    .toBe('17px');
}

async function stepTraps(page: Page, n: number) {
  for (let i = 0; i < n; i++) {
    await page.getByTestId('step-trap').click();
    await expect(page).toHaveURL(new RegExp(`[?&]at=t${i + 1}(&|$)`));
  }
}

/** Nothing on the page is wider than the window. */
async function noHorizontalScroll(page: Page) {
  const { sw, cw } = await page.evaluate(() => ({
    sw: document.documentElement.scrollWidth,
    cw: document.documentElement.clientWidth,
  }));
  expect(sw).toBeLessThanOrEqual(cw);
}

/** Names of the register rows fully inside the panel's scroll viewport, below its sticky header. */
function visibleRegisterRows(page: Page): Promise<string[]> {
  return page.getByTestId('registers').evaluate((regs) => {
    const body = regs.closest('.panel-body')!.getBoundingClientRect();
    const head = regs.querySelector('thead')!.getBoundingClientRect();
    return Array.from(regs.querySelectorAll<HTMLTableRowElement>('tbody tr:not(.section)'))
      .filter((tr) => {
        const b = tr.getBoundingClientRect();
        return b.top >= head.bottom - 0.5 && b.bottom <= body.bottom + 0.5;
      })
      .map((tr) => tr.querySelector('th')?.textContent ?? '');
  });
}

test('1280×720 classroom: all general registers and EIP are in view beside the virtual CPU', async ({
  page,
}) => {
  await classroom(page, 1280, 720, '/?guest=trapdemo&technique=trap-and-emulate&vms=2');
  await stepTraps(page, 5);
  await expect(page.locator('.reg-table thead')).toContainText('VM 0 virtual CPU');
  const rows = await visibleRegisterRows(page);
  console.log(`register rows fully visible at 1280×720 classroom: ${rows.length} (${rows.join(' ')})`);
  expect(rows.length).toBeGreaterThanOrEqual(9);
  expect(rows.slice(0, 9)).toEqual(['EAX', 'EBX', 'ECX', 'EDX', 'ESI', 'EDI', 'EBP', 'ESP', 'EIP']);
  // The denser rows keep the classroom type size.
  const size = await page
    .locator('.reg-table td .val')
    .first()
    .evaluate((el) => Number.parseFloat(getComputedStyle(el).fontSize));
  expect(size).toBeGreaterThanOrEqual(15);
  await noHorizontalScroll(page);
});

// 1920×1080 in classroom type took one row until session 4 added the Lessons link, the Labs menu
// and the machine/hosting slot: the run controls now wrap under the pickers there too.
// With a CPU generation chosen (lesson 8's preset) the classroom toolbar shows the CPU picker too.
for (const [width, height, room, maxRows, extra] of [
  [1920, 1080, true, 2, ''],
  [1600, 900, true, 2, ''],
  [1280, 720, true, 2, ''],
  [1280, 720, true, 2, '&cpu=p4'],
  [1280, 720, false, 2, ''],
] as const) {
  test(`${width}×${height}${room ? ' classroom' : ''}${extra}: the toolbar takes ${Number(maxRows) === 1 ? 'one row' : 'at most two rows'}, nothing overlaps`, async ({
    page,
  }) => {
    if (room)
      await classroom(page, width, height, `/?guest=trapdemo&technique=trap-and-emulate&vms=2${extra}`);
    else {
      await page.setViewportSize({ width, height });
      await page.goto('/?guest=trapdemo&technique=trap-and-emulate&vms=2');
      await expect(page.getByTestId('status-note')).toHaveText('Loaded — press Run', { timeout: 30_000 });
    }
    const boxes = await page.locator('.toolbar > *').evaluateAll((els) =>
      els.map((el) => {
        const b = el.getBoundingClientRect();
        return { top: b.top, bottom: b.bottom, right: b.right };
      }),
    );
    // Items share a row when their vertical extents overlap; count the distinct rows.
    const rows: { top: number; bottom: number }[] = [];
    for (const b of boxes) {
      const row = rows.find((r) => b.top < r.bottom && b.bottom > r.top);
      if (!row) rows.push({ top: b.top, bottom: b.bottom });
    }
    expect(rows.length).toBeLessThanOrEqual(maxRows);
    const run = await page.getByTestId('run-pause').boundingBox();
    const bar = await page.locator('.toolbar').boundingBox();
    expect(bar!.height).toBeLessThan(maxRows * run!.height + (maxRows + 1) * 17);
    for (const b of boxes) expect(b.right).toBeLessThanOrEqual(width);
    // No control, label or picker sits on another one.
    const overlaps = await page
      .locator('.toolbar .brand, .toolbar .field-label, .toolbar select, .toolbar button')
      .evaluateAll((els) => {
        const bs = els.map((el) => ({ el, b: el.getBoundingClientRect() }));
        const out: string[] = [];
        for (let i = 0; i < bs.length; i++)
          for (let j = i + 1; j < bs.length; j++) {
            const [a, c] = [bs[i].b, bs[j].b];
            const x = Math.min(a.right, c.right) - Math.max(a.left, c.left);
            const y = Math.min(a.bottom, c.bottom) - Math.max(a.top, c.top);
            if (x > 0.5 && y > 0.5 && !bs[i].el.contains(bs[j].el) && !bs[j].el.contains(bs[i].el))
              out.push(`${bs[i].el.textContent?.slice(0, 20)} × ${bs[j].el.textContent?.slice(0, 20)}`);
          }
        return out;
      });
    expect(overlaps).toEqual([]);
    // Pickers that gave way still say what they hold.
    const rem = room ? 17 : 13;
    for (const id of ['guest-select', 'technique-select']) {
      expect((await page.getByTestId(id).boundingBox())!.width).toBeGreaterThanOrEqual(7.5 * rem - 1);
    }
    await noHorizontalScroll(page);
  });
}

test('1280×720 classroom, two VMs under trap-and-emulate: the per-VM table is in view in Stats', async ({
  page,
}) => {
  await classroom(page, 1280, 720, '/?guest=hello&technique=trap-and-emulate&vms=2');
  await page.getByTestId('run-pause').click();
  await expect.poll(() => consoleText(page, 1)).toContain('Hello from TrapLab!');
  await expect(page.getByTestId('status-note')).toContainText('exited');
  await page.getByTestId('stats-tab').click();
  const table = page.getByTestId('vm-table');
  await expect(table.locator('tbody tr')).toHaveCount(2);
  const m = await table.evaluate((t) => {
    const body = t.closest('.panel-body')!;
    const last = t.querySelector('tbody tr:last-child')!.getBoundingClientRect();
    const wrap = t.parentElement!;
    return {
      scrollTop: body.scrollTop,
      bodyTop: body.getBoundingClientRect().top,
      bodyBottom: body.getBoundingClientRect().bottom,
      top: t.getBoundingClientRect().top,
      lastBottom: last.bottom,
      wrapScroll: wrap.scrollWidth - wrap.clientWidth,
    };
  });
  console.log(`per-VM table at 1280×720 classroom: ${JSON.stringify(m)}`);
  // Unscrolled, the whole table (header and both VMs) is inside the panel.
  expect(m.scrollTop).toBe(0);
  expect(m.top).toBeGreaterThanOrEqual(m.bodyTop);
  expect(m.lastBottom).toBeLessThanOrEqual(m.bodyBottom);
  // …and every column of it fits the panel's width: no sideways scrolling.
  expect(m.wrapScroll).toBeLessThanOrEqual(0);
  await expect(table.locator('thead')).toContainText('switches');
  // The four summary cards share one row.
  const tops = await page
    .locator('.stat')
    .evaluateAll((els) => els.map((el) => Math.round(el.getBoundingClientRect().top)));
  expect(new Set(tops).size).toBe(1);
  await noHorizontalScroll(page);
});

for (const [width, height] of [
  [1280, 720],
  [1920, 1080],
] as const) {
  test(`${width}×${height} classroom: CS:EIP is shown whole in the trap table, detail open or not`, async ({
    page,
  }) => {
    await classroom(page, width, height, '/?guest=trapdemo&technique=trap-and-emulate&vms=2');
    await stepTraps(page, 5);
    for (const detail of [true, false]) {
      if (detail) await expect(page.getByTestId('trap-detail')).toBeVisible();
      else {
        await page.getByRole('button', { name: 'Close the detail' }).click();
        await expect(page.getByTestId('trap-detail')).toHaveCount(0);
      }
      const cells = await page.locator('.trap-table .trow:not(.thead) .c-eip').evaluateAll((els) => {
        const table = els[0]?.closest('.trap-table')?.getBoundingClientRect();
        return els.map((el) => {
          const b = el.getBoundingClientRect();
          return {
            text: el.textContent ?? '',
            fits: el.scrollWidth <= el.clientWidth,
            inView: !!table && b.width > 0 && b.left >= table.left - 0.5 && b.right <= table.right + 0.5,
          };
        });
      });
      expect(cells.length).toBeGreaterThanOrEqual(5);
      for (const c of cells) {
        expect(c.text).toMatch(/^[0-9A-F]{4}:[0-9A-F]{8}$/);
        expect(c, `${c.text} with the detail ${detail ? 'open' : 'closed'}`).toMatchObject({
          fits: true,
          inView: true,
        });
      }
      // Kind and instruction stay beside it.
      for (const col of ['c-kind', 'c-insn']) {
        await expect(page.locator(`.trap-table .trow.thead .${col}`)).toBeVisible();
      }
      // The header labels are whole too.
      const clipped = await page
        .locator('.trap-table .trow.thead > span')
        .evaluateAll((els) =>
          els
            .filter((el) => el.getClientRects().length > 0 && el.scrollWidth > el.clientWidth)
            .map((el) => el.textContent),
        );
      expect(clipped).toEqual([]);
    }
    await noHorizontalScroll(page);
  });
}
