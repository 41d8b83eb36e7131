// Loads the CLI bundle (scripts/build-cli.mjs) through V8's code cache: the first call compiles
// it and, once its run is over, saves the bytecode of every function it compiled beside the bundle;
// later calls start from that instead of parsing and compiling ~570 kB again (Node 20 offers no
// code cache for ES modules, hence a CommonJS body run by vm.Script). The cache file is named by the
// bundle file's identity (inode, size, modification time: a rebuild writes a new file and renames
// it, and deletes old caches), so a rebuilt bundle never meets an old cache — V8 itself checks only
// the source's length. V8 rejects a cache from another V8 version or flags; it is then rewritten.
import { closeSync, fstatSync, openSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { pathToFileURL } from 'node:url';
import vm from 'node:vm';

/** The bundle's exports, and `saveCache` to call when the run is over. */
export function loadBundle(path) {
  // One open file for both, so a bundle renamed in meanwhile cannot pair new text with an old name.
  const fd = openSync(path, 'r');
  let source;
  let st;
  try {
    st = fstatSync(fd);
    source = readFileSync(fd, 'utf8');
  } finally {
    closeSync(fd);
  }
  const id = `${st.ino.toString(36)}-${st.size.toString(36)}-${Math.round(st.mtimeMs * 1000).toString(36)}`;
  const cachePath = `${path}.${id}.v8cache`;
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
