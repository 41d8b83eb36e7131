/**
 * The guest images reach the browser intact from both servers: the dev server answers the
 * extension-less bzImage as bytes (it used to run it through import analysis: HTTP 500), and the
 * production build names every image with a real extension and serves it as binary.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, createServer, preview } from 'vite';
import { afterAll, describe, expect, it } from 'vitest';
import { assetFileName } from './vite-guest-images.ts';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const configFile = join(root, 'vite.config.ts');

function portOf(server: { httpServer: unknown }): number {
  const http = server.httpServer as { address(): AddressInfo | string | null };
  const a = http.address();
  if (a === null || typeof a === 'string') throw new Error('server has no TCP address');
  return a.port;
}

describe('assetFileName', () => {
  it('keeps an extension and gives an extension-less image .bin', () => {
    expect(assetFileName({ names: ['hello.elf'] })).toBe('assets/[name]-[hash][extname]');
    expect(assetFileName({ names: ['bzImage'] })).toBe('assets/[name]-[hash].bin');
  });
});

describe('dev server', () => {
  it('serves bzImage, the initrd and an ELF byte for byte as application/octet-stream', async () => {
    const server = await createServer({
      configFile,
      root,
      logLevel: 'silent',
      server: { host: '127.0.0.1', port: 0, hmr: false },
    });
    await server.listen();
    try {
      const base = `http://127.0.0.1:${portOf(server)}`;
      for (const file of ['linux/bzImage', 'linux/initramfs.cpio', 'hello/hello.elf']) {
        const r = await fetch(`${base}/guests/${file}`);
        expect(r.status, file).toBe(200);
        expect(r.headers.get('content-type'), file).toBe('application/octet-stream');
        expect(r.headers.get('cross-origin-embedder-policy'), file).toBe('require-corp');
        const got = new Uint8Array(await r.arrayBuffer());
        expect(Buffer.compare(got, readFileSync(join(root, 'guests', file))), file).toBe(0);
      }
      // The module that gives the page the URL still goes through Vite.
      const mod = await fetch(`${base}/guests/linux/bzImage?url`);
      expect(await mod.text()).toMatch(/export default "\/guests\/linux\/bzImage"/);
    } finally {
      await server.close();
    }
  });
});

describe('production build', () => {
  const outDir = mkdtempSync(join(tmpdir(), 'traplab-dist-'));
  afterAll(() => rmSync(outDir, { recursive: true, force: true }));

  it('names every image with an extension and serves it as application/octet-stream', async () => {
    await build({ configFile, root, logLevel: 'silent', build: { outDir, emptyOutDir: true } });
    const assets = readdirSync(join(outDir, 'assets'));
    expect(assets.filter((f) => f.endsWith('.'))).toEqual([]);
    const kernel = assets.find((f) => f.startsWith('bzImage-'));
    expect(kernel).toMatch(/^bzImage-[\w-]+\.bin$/);
    const elf = assets.find((f) => f.startsWith('hello-'));
    expect(elf).toMatch(/^hello-[\w-]+\.elf$/);

    const server = await preview({
      configFile,
      root,
      logLevel: 'silent',
      build: { outDir },
      preview: { host: '127.0.0.1', port: 0 },
    });
    try {
      const base = `http://127.0.0.1:${portOf(server)}`;
      for (const f of [kernel, elf]) {
        const r = await fetch(`${base}/assets/${f}`);
        expect(r.status, f).toBe(200);
        expect(r.headers.get('content-type'), f).toBe('application/octet-stream');
      }
      const r = await fetch(`${base}/assets/${kernel}`);
      const got = new Uint8Array(await r.arrayBuffer());
      expect(Buffer.compare(got, readFileSync(join(root, 'guests/linux/bzImage')))).toBe(0);
    } finally {
      await server.close();
    }
  });
});
