/**
 * `npm run bench -- --browser`: the Linux boot to `guest# ` in the playground's Web Worker, in
 * Debian chromium driven by Playwright, beside the same boot cold in Node (a fresh process). The
 * page is the production build (dist/, rebuilt when src/ is newer) served by `vite preview`; each
 * run opens a new page (a fresh worker: cold, as a user's new tab) and times, inside the page, from
 * the Run click to the prompt on the console.
 */
import { type ChildProcess, execSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import type { BenchArgs } from './args.ts';

function newestMtime(dir: string): number {
  let t = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    t = Math.max(t, e.isDirectory() ? newestMtime(p) : statSync(p).mtimeMs);
  }
  return t;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => resolve(typeof a === 'object' && a ? a.port : 0));
    });
  });
}

async function waitForServer(url: string, child: ChildProcess): Promise<void> {
  for (let i = 0; i < 300; i++) {
    if (child.exitCode !== null) throw new Error(`vite preview exited (${child.exitCode})`);
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`vite preview did not answer at ${url}`);
}

interface BrowserRun {
  seconds: number;
  instructions: number;
}

export async function benchBrowser(args: BenchArgs): Promise<number> {
  const log = (s: string) => process.stderr.write(`bench: ${s}\n`);
  if (!existsSync('guests/linux/bzImage')) {
    log('skipping the browser figure: guests/linux/bzImage not built');
    return 0;
  }
  const dist = 'dist/index.html';
  if (!existsSync(dist) || statSync(dist).mtimeMs < newestMtime('src')) {
    log('building dist/ (vite build)…');
    const b = spawnSync('npx', ['vite', 'build'], { stdio: ['ignore', 'ignore', 'inherit'] });
    if (b.status !== 0) {
      log('vite build failed');
      return 1;
    }
  }
  let exe = process.env.CHROMIUM_PATH;
  if (!exe) {
    try {
      exe = execSync('command -v chromium', { shell: '/bin/sh' }).toString().trim();
    } catch {
      log('Debian chromium not found: apt-get install -y chromium, or set CHROMIUM_PATH');
      return 1;
    }
  }
  const port = await freePort();
  const server = spawn(
    'npx',
    ['vite', 'preview', '--host', '127.0.0.1', '--port', String(port), '--strictPort'],
    {
      stdio: 'ignore',
      detached: true,
    },
  );
  const { chromium } = await import('@playwright/test');
  const browser = await chromium.launch({
    executablePath: exe,
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--no-first-run'],
  });
  const runs: BrowserRun[] = [];
  try {
    const base = `http://127.0.0.1:${port}`;
    await waitForServer(base, server);
    for (let i = 0; i < Math.max(1, Math.min(args.runs, 5)); i++) {
      const page = await browser.newPage();
      await page.goto(`${base}/?guest=linux&technique=native&vms=1`);
      await page
        .getByTestId('status-note')
        .filter({ hasText: 'Loaded — press Run' })
        .waitFor({ timeout: 120_000 });
      const r = await page.evaluate(
        () =>
          new Promise<{ seconds: number; instructions: number }>((resolve, reject) => {
            // The console draws on a canvas; its element offers the terminal's text (ui/Consoles.tsx).
            const con = document.querySelector('[data-testid=console-0]') as Element & {
              traplabText?: () => string;
            };
            const bar = document.querySelector('[data-testid=statusbar]')!;
            const t0 = performance.now();
            const timer = setInterval(() => {
              if ((con.traplabText?.() ?? con.textContent ?? '').includes('guest#')) {
                clearInterval(timer);
                resolve({
                  seconds: (performance.now() - t0) / 1000,
                  instructions: Number(bar.getAttribute('data-instructions')),
                });
              } else if (performance.now() - t0 > 300_000) {
                clearInterval(timer);
                reject(new Error('no prompt within 300 s'));
              }
            }, 10);
            document.querySelector<HTMLButtonElement>('[data-testid=run-pause]')!.click();
          }),
      );
      runs.push(r);
      log(
        `browser run ${i + 1}: ${r.seconds.toFixed(3)} s wall to 'guest# ' (${r.instructions} instructions shown)`,
      );
      await page.close();
    }
  } finally {
    await browser.close();
    if (server.pid) process.kill(-server.pid);
  }
  // The same boot cold in Node (a fresh process, like the browser's fresh worker).
  const node = spawnSync(
    process.execPath,
    [...process.execArgv, process.argv[1]!, '--child', 'linux-boot', '--tier', args.tier],
    { encoding: 'utf8' },
  );
  const line = node.stdout.split('\n').find((l) => l.startsWith('COLD '));
  const cold = line
    ? (JSON.parse(line.slice(5)) as { instructions: number; cpu: number; wall: number })
    : null;
  const best = Math.min(...runs.map((r) => r.seconds));
  const out = {
    name: 'linux-boot-browser',
    browserWall: runs.map((r) => Number(r.seconds.toFixed(3))),
    best: Number(best.toFixed(3)),
    nodeColdWall: cold ? Number(cold.wall.toFixed(3)) : null,
    nodeColdCpu: cold ? Number(cold.cpu.toFixed(3)) : null,
    ratioToNodeWall: cold ? Number((best / cold.wall).toFixed(2)) : null,
  };
  if (args.json) process.stdout.write(`${JSON.stringify(out)}\n`);
  else
    process.stdout.write(
      `linux-boot in chromium's worker: ${out.best} s wall (runs ${out.browserWall.join(', ')}); ` +
        `Node cold: ${out.nodeColdWall} s wall, ${out.nodeColdCpu} s CPU; browser/Node wall ${out.ratioToNodeWall}×\n`,
    );
  return 0;
}
