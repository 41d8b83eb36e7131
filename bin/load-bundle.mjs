// Loads the CLI bundle (scripts/build-cli.mjs) through V8's code cache: the first call compiles
// it and, once its run is over, saves the bytecode of every function it compiled beside the bundle;
// later calls start from that instead of parsing and compiling ~570 kB again (Node 20 offers no
// code cache for ES modules, hence a CommonJS body run by vm.Script). The cache file is named by a
// hash of the bundle's text, so a rebuilt bundle never meets an old cache (V8 itself checks only the
// source's length); V8 rejects a cache from another V8 version or flags, and it is then rewritten.
import { createHash } from 'node:crypto';
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { pathToFileURL } from 'node:url';
import vm from 'node:vm';

/** The bundle's exports, and `saveCache` to call when the run is over. */
export function loadBundle(path) {
  const source = readFileSync(path, 'utf8');
  const hash = createHash('sha1').update(source).digest('hex').slice(0, 16);
  const cachePath = `${path}.${hash}.v8cache`;
  let cachedData;
  try {
    cachedData = readFileSync(cachePath);
  } catch {
    cachedData = undefined;
  }
  const script = new vm.Script(
    `(function (exports, require, module, __filename, __dirname, __traplabUrl) {${source}\n})`,
    { filename: path, cachedData },
  );
  const module = { exports: {} };
  script.runInThisContext()(
    module.exports,
    createRequire(path),
    module,
    path,
    dirname(path),
    pathToFileURL(path).href,
  );
  const saveCache = () => {
    if (cachedData !== undefined && !script.cachedDataRejected) return;
    try {
      const tmp = `${cachePath}.${process.pid}.tmp`;
      writeFileSync(tmp, script.createCachedData());
      renameSync(tmp, cachePath); // a concurrent reader sees the whole file or none
    } catch {
      // A read-only install runs without a cache.
    }
  };
  return { exports: module.exports, saveCache };
}
