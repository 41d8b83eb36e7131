/**
 * Linux boot to the prompt under binary translation, with the VMM's counters (not a test):
 *   npx tsx src/hypervisor/binary-translation/perf-bt-linux.ts            # one boot
 *   RECORDS=1 npx tsx src/hypervisor/binary-translation/perf-bt-linux.ts  # + the log by reason (interpreter
 *                                      # runs by what brought them there, 13/12/bb, and their bytes)
 *   WARM=1 PROF=/tmp/bt.cpuprofile npx tsx …   # boot twice, measure (and profile) the second
 *   WARM=1 HEAP=/tmp/bt.heapprofile npx tsx …  # …or sample its allocations, collected objects included
 * Prints instructions, CPU seconds, translations, callouts by reason, interpreter runs and the
 * instructions they performed, and a hash of the trap log (the same guest gives the same log).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import { join } from 'node:path';
import { loadLinux } from '../../machine/loaders/index.ts';
import { ROOT } from '../trap-and-emulate/test-guests.ts';
import { TrapKind } from '../vmm/trap-log.ts';
import { createBinaryTranslationRunner } from './runner.ts';

const guests = join(ROOT, 'guests');
const manifest = JSON.parse(readFileSync(join(guests, 'manifest.json'), 'utf8')) as {
  guests: { id: string; files: Record<string, string>; cmdline?: string }[];
};
const linux = manifest.guests.find((g) => g.id === 'linux');
if (!linux) throw new Error('guests/manifest.json has no linux entry');
const image = loadLinux(new Uint8Array(readFileSync(join(guests, linux.files.kernel))), {
  ramBytes: 64 << 20,
  initrd: new Uint8Array(readFileSync(join(guests, linux.files.initrd))),
  cmdline: linux.cmdline,
});

function boot() {
  const r = createBinaryTranslationRunner({ vms: 1, memMiB: 64, noReboot: true }, image);
  const dec = new TextDecoder();
  let text = '';
  while (!text.includes('guest# ')) {
    const s = r.run(1_000_000, false);
    text += dec.decode(r.takeSerial(0), { stream: true });
    if (s.state !== 'budget' && s.state !== 'idle') throw new Error(`guest ${s.state}: ${s.reason}`);
    if (r.instructions > 3e8) throw new Error('no prompt');
  }
  return r;
}
if (process.env.WARM) boot();
const session = process.env.PROF || process.env.HEAP ? new Session() : null;
const post = (m: string, p?: object) =>
  new Promise<unknown>((ok, no) => session?.post(m, p ?? {}, (e, v) => (e ? no(e) : ok(v))));
if (session) {
  session.connect();
  if (process.env.PROF) {
    await post('Profiler.enable');
    await post('Profiler.start');
  } else
    await post('HeapProfiler.startSampling', {
      samplingInterval: 4096,
      includeObjectsCollectedByMajorGC: true,
      includeObjectsCollectedByMinorGC: true,
    });
}
const t0 = process.cpuUsage();
const r = boot();
const cpu = process.cpuUsage(t0);
if (session) {
  const { profile } = (await post(process.env.PROF ? 'Profiler.stop' : 'HeapProfiler.stopSampling')) as {
    profile: object;
  };
  writeFileSync((process.env.PROF ?? process.env.HEAP) as string, JSON.stringify(profile));
}
const bt = r.technique;
const b = bt.bt[0];
const log = r.traps;
console.log(`instructions ${r.instructions}  cpu ${((cpu.user + cpu.system) / 1e6).toFixed(2)} s`);
console.log(`interpreter: ${bt.interp.count} instructions`);
console.log('bt stats', JSON.stringify(b.stats), 'tc', JSON.stringify(b.tc.stats));
console.log(
  `records ${log.total}: translation ${log.countByKind(TrapKind.Translation)}, callout ${log.countByKind(TrapKind.Callout)}`,
);
const by = new Map<string, number>();
let h = 0x811c9dc5;
for (let i = 0; i < log.count; i++) {
  const x = log.get(i);
  h = Math.imul(h ^ x.kind ^ (x.eip << 4) ^ x.reason ^ Math.floor(x.timeNs), 16777619) >>> 0;
  let k = `${x.kindName}/${x.reasonName}`;
  if (x.kind === TrapKind.Callout && x.reasonName === 'interpret')
    k += ` ${(x.details as { values: number[] }).values[0].toString(16)} ${x.bytes.map((v) => v.toString(16).padStart(2, '0')).join(' ')}`;
  by.set(k, (by.get(k) ?? 0) + 1);
}
console.log(`log hash ${h.toString(16)} (held ${log.count} of ${log.total})`);
if (process.env.RECORDS)
  for (const [k, n] of [...by].sort((a, z) => z[1] - a[1]).slice(0, 40)) console.log(`  ${n}\t${k}`);
