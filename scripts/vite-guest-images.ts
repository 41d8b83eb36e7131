/**
 * Vite plugin: serve and name the guest images (guests/<dir>/*.elf, linux/bzImage, …) as the plain
 * binary files they are.
 *
 * - Dev server: Vite treats a request for an extension-less file as a JavaScript module, so
 *   `GET /guests/linux/bzImage` went through import analysis and answered 500. Guest images are
 *   answered here first, byte for byte, as application/octet-stream.
 * - Build: Vite names assets `[name]-[hash].[ext]`, which gives `bzImage-<hash>.` (a trailing dot)
 *   in dist/; an image without an extension is emitted as `<name>-<hash>.bin` instead, the name
 *   every static server maps to a binary type.
 * - Preview: `vite preview` sends no Content-Type for .elf/.cpio/.bin (types it does not know);
 *   guest images get application/octet-stream.
 */
import { createReadStream, statSync } from 'node:fs';
import type { ServerResponse } from 'node:http';
import { join } from 'node:path';
import type { Connect, Plugin } from 'vite';

/** The guest images src/worker/guests.ts bundles: one directory below guests/. */
export const GUEST_IMAGE_PATH = /^\/guests\/[^/]+\/(?:[^/]+\.(?:elf|bin|img|cpio|gz|rom)|bzImage)$/;
/** Their names once built (dist/assets/<name>-<hash>.<ext>). */
export const BUILT_IMAGE_PATH = /^\/assets\/[^/]+\.(?:elf|bin|img|cpio|gz|rom)$/;
const BINARY = 'application/octet-stream';

type AssetInfo = { names: readonly string[] };

/** Output file name of a bundled asset: keep its extension, or give it `.bin` when it has none. */
export function assetFileName(info: AssetInfo): string {
  const name = info.names[0] ?? '';
  return /\.[^./]+$/.test(name) ? 'assets/[name]-[hash][extname]' : 'assets/[name]-[hash].bin';
}

function pathOf(url: string | undefined): string | null {
  if (url === undefined) return null;
  // A query (`?url`, `?import`) means a module request: those stay with Vite.
  if (url.includes('?')) return null;
  try {
    return decodeURIComponent(url);
  } catch {
    return null;
  }
}

function sendFile(
  file: string,
  res: ServerResponse,
  head: boolean,
  headers: Record<string, string>,
): boolean {
  let size: number;
  try {
    const st = statSync(file);
    if (!st.isFile()) return false;
    size = st.size;
  } catch {
    return false;
  }
  res.writeHead(200, {
    ...headers,
    'Content-Type': BINARY,
    'Content-Length': String(size),
    'Cache-Control': 'no-cache',
  });
  if (head) res.end();
  else createReadStream(file).pipe(res);
  return true;
}

export function guestImages(): Plugin {
  return {
    name: 'traplab-guest-images',
    config: () => ({
      build: { rolldownOptions: { output: { assetFileNames: assetFileName } } },
      worker: { rolldownOptions: { output: { assetFileNames: assetFileName } } },
    }),
    configureServer(server) {
      const root = server.config.root;
      const headers = (server.config.server.headers ?? {}) as Record<string, string>;
      // Registered directly (not in a returned hook), so it runs before Vite's transform middleware.
      const serve: Connect.NextHandleFunction = (req, res, next) => {
        const path = pathOf(req.url);
        const method = req.method ?? 'GET';
        if (path === null || !GUEST_IMAGE_PATH.test(path) || (method !== 'GET' && method !== 'HEAD')) {
          next();
          return;
        }
        if (!sendFile(join(root, path), res, method === 'HEAD', headers)) next();
      };
      server.middlewares.use(serve);
    },
    configurePreviewServer(server) {
      server.middlewares.use((req, res, next) => {
        const path = pathOf(req.url);
        if (path !== null && BUILT_IMAGE_PATH.test(path)) res.setHeader('Content-Type', BINARY);
        next();
      });
    },
  };
}
