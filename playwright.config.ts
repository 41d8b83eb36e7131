import { execFileSync, execSync } from 'node:child_process';
import { defineConfig, devices } from '@playwright/test';

// Debian's chromium (apt-get install -y chromium); Playwright never downloads a browser here.
function chromiumPath(): string {
  if (process.env.CHROMIUM_PATH) return process.env.CHROMIUM_PATH;
  try {
    return execSync('command -v chromium', { shell: '/bin/sh' }).toString().trim();
  } catch {
    throw new Error('Debian chromium not found: run `apt-get install -y chromium` or set CHROMIUM_PATH');
  }
}

/** A TCP port nobody listens on now (the kernel picks it). */
function freePort(): string {
  const js =
    "const s=require('net').createServer();s.listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})";
  return execFileSync(process.execPath, ['-e', js]).toString().trim();
}

// Each run serves on ports it picked itself and never reuses a server it did not start, so it can
// never test another checkout's build or a stale dev server. The ports go through the environment
// because Playwright loads this file again in every worker process, which inherits it.
process.env.TRAPLAB_E2E_PREVIEW_PORT ??= freePort();
process.env.TRAPLAB_E2E_DEV_PORT ??= freePort();
const previewPort = process.env.TRAPLAB_E2E_PREVIEW_PORT;
const devPort = process.env.TRAPLAB_E2E_DEV_PORT;

const chromium = {
  ...devices['Desktop Chrome'],
  launchOptions: {
    executablePath: chromiumPath(),
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-dev-shm-usage',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--disable-quic',
      '--no-first-run',
    ],
  },
};

// Specs that (also) run against `npm run dev`, the README's first command.
const devSpecs = /dev-server\.spec\.ts$/;

export default defineConfig({
  testDir: './e2e',
  timeout: 60_000,
  workers: 1,
  reporter: [['list'], ['json', { outputFile: 'test-results/e2e.json' }]],
  use: { trace: 'retain-on-failure' },
  projects: [
    {
      // The production build (`npm run build` + `vite preview`): every spec.
      name: 'debian-chromium',
      use: { ...chromium, baseURL: `http://127.0.0.1:${previewPort}` },
    },
    {
      // The Vite dev server (`npm run dev`).
      name: 'dev-server',
      testMatch: devSpecs,
      use: { ...chromium, baseURL: `http://127.0.0.1:${devPort}` },
    },
  ],
  webServer: [
    {
      // PERF_NOMINIFY=1: an unminified build, so the perf spec's CPU profiles and traces
      // (PERF_PROFILE, PERF_TRACE) name React's and our functions.
      command: `npx vite build${process.env.PERF_NOMINIFY ? ' --minify false' : ''} && npx vite preview --host 127.0.0.1 --port ${previewPort} --strictPort`,
      url: `http://127.0.0.1:${previewPort}`,
      reuseExistingServer: false,
      timeout: 180_000,
    },
    {
      command: `npx vite --host 127.0.0.1 --port ${devPort} --strictPort`,
      url: `http://127.0.0.1:${devPort}`,
      reuseExistingServer: false,
      timeout: 60_000,
    },
  ],
});
