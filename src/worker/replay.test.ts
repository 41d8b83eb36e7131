/**
 * A run position carried in a link replays to exactly the same state: WorkerCore over the real
 * Session, once driven live (step to trap, run, pause, type), once from the journal alone.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { CoreHost } from './contract.ts';
import { WorkerCore } from './core.ts';
import type { FromWorker } from './protocol.ts';
import { createEmuSession } from './session-adapter.ts';
import { toRegSnapshot } from './snapshot.ts';

const root = join(import.meta.dirname, '../..');
const manifest = JSON.parse(readFileSync(join(root, 'guests/manifest.json'), 'utf8')) as {
  guests: { id: string; title: string; files: { kernel?: string } }[];
};

function harness() {
  const out: FromWorker[] = [];
  let clock = 0;
  const host: CoreHost = {
    createSession: createEmuSession,
    async resolveGuest(id) {
      const g = manifest.guests.find((x) => x.id === id)!;
      return {
        label: g.title,
        memMiB: 32,
        source: {
          kind: 'kernel',
          kernel: new Uint8Array(readFileSync(join(root, 'guests', g.files.kernel!))),
        },
      };
    },
    toRegSnapshot,
    post: (m) => out.push(m),
    // A fake clock: each read is 0.05 ms later, so slices (and their budgets) vary from run to run.
    now: () => (clock += 0.05),
    wake: () => {},
  };
  const core = new WorkerCore(host);
  const frames = () => out.filter((m): m is Extract<FromWorker, { type: 'frame' }> => m.type === 'frame');
  const last = () => frames().at(-1)!;
  const runToStop = () => {
    for (let i = 0; i < 100_000 && core.runSlice().more; i++);
  };
  const serial = () =>
    new TextDecoder().decode(
      Uint8Array.from(frames().flatMap((f) => f.serial.flatMap((s) => Array.from(s.bytes)))),
    );
  const detail = async (index: number) => {
    await core.handle({ type: 'trapDetail', id: 99, index });
    const m = out.at(-1)!;
    if (m.type !== 'trapDetail') throw new Error(`got ${m.type}`);
    return m.detail;
  };
  return { core, out, frames, last, runToStop, serial, detail };
}

const load = (id: string, technique: string, position?: string) => ({
  type: 'load',
  scenario: { guest: { kind: 'builtin', id }, technique, vms: 1 },
  ...(position !== undefined ? { position } : {}),
});

describe('run positions replay exactly', () => {
  it('trapdemo under trap-and-emulate: the 5th trap, with real registers before and after', async () => {
    const live = harness();
    await live.core.handle(load('trapdemo', 'trap-and-emulate'));
    for (let i = 0; i < 5; i++) {
      await live.core.handle({ type: 'stepToTrap' });
      live.runToStop();
      expect(live.last().status.stopNote).toMatch(/^Stopped at trap: /);
    }
    const at = live.last();
    expect(at.status.position).toBe('t5');
    const trap = at.status.trapStop!;
    expect(trap).toBeGreaterThanOrEqual(4);
    expect(at.stats.trapTotal).toBeGreaterThan(trap);

    const d = (await live.detail(trap))!;
    expect(d.regs).toBeDefined();
    expect(d.regs!.exact).toBe(true);
    // After = the registers the worker shows at the stop.
    expect(d.regs!.after).toEqual(at.regs);
    // The trapping instruction was at the record's EIP.
    expect(d.regs!.before.real.eip).toBe(d.eip);
    // trapdemo's 5th record is its first port access (IN AL,DX, one byte): "after" is right after
    // the VMM emulated it — not one guest instruction later.
    expect(d.kindName).toBe('port I/O');
    expect(d.fields.find(([k]) => k === 'Instruction')?.[1]).toBe('in al, dx');
    expect(d.regs!.after.real.eip).toBe(d.eip + 1);

    const replay = harness();
    await replay.core.handle(load('trapdemo', 'trap-and-emulate', 't5'));
    replay.runToStop();
    const end = replay.last();
    expect(end.status.stopNote).toMatch(/^Stopped at trap: .* \(replayed from the link\)$/);
    expect(end.regs).toEqual(at.regs);
    expect(end.stats.instructions).toBe(at.stats.instructions);
    expect(end.stats.trapTotal).toBe(at.stats.trapTotal);
    expect(end.status.trapStop).toBe(trap);
    expect(end.status.position).toBe('t5');
    expect((await replay.detail(trap))!.regs).toEqual(d.regs);
  });

  it('minikernel: run, pause anywhere, type a command, run, pause — the journal replays it all', async () => {
    const live = harness();
    await live.core.handle(load('minikernel', 'native'));
    await live.core.handle({ type: 'run' });
    for (let i = 0; i < 400 && !live.serial().includes('mini$ '); i++) live.core.runSlice();
    await live.core.handle({ type: 'pause' });
    await live.core.handle({ type: 'step' });
    await live.core.handle({ type: 'serialInput', vm: 0, bytes: new TextEncoder().encode('help\n') });
    await live.core.handle({ type: 'run' });
    // Until the shell has answered and printed its next prompt.
    const answered = () => (live.serial().split('mini$ help')[1] ?? '').includes('mini$ ');
    for (let i = 0; i < 400 && !answered(); i++) live.core.runSlice();
    expect(answered()).toBe(true);
    await live.core.handle({ type: 'pause' });
    const at = live.last();
    const pos = at.status.position!;
    expect(pos).toMatch(/^c[0-9a-z]+_0\.s1\.i0aGVscAo\.c[0-9a-z]+_0$/);
    expect(live.serial()).toContain('mini$ help');

    const replay = harness();
    await replay.core.handle(load('minikernel', 'native', pos));
    // Input arriving during the replay (a terminal answering replayed output) is not fed in.
    replay.core.runSlice();
    await replay.core.handle({ type: 'serialInput', vm: 0, bytes: new TextEncoder().encode('x') });
    replay.runToStop();
    const end = replay.last();
    expect(end.status.stopNote).toBe('At the linked run position');
    expect(end.regs).toEqual(at.regs);
    expect(end.stats.instructions).toBe(at.stats.instructions);
    expect(end.stats.virtualTimeNs).toBe(at.stats.virtualTimeNs);
    expect(replay.serial()).toBe(live.serial());
    expect(end.status.position).toBe(pos);
  });

  it('a run that ended on a trap the VMM emulates (no tick) replays to the same end', async () => {
    const live = harness();
    await live.core.handle(load('trapdemo', 'trap-and-emulate'));
    await live.core.handle({ type: 'run' });
    live.runToStop();
    const at = live.last();
    expect(at.status.state).toBe('exited');
    const replay = harness();
    await replay.core.handle(load('trapdemo', 'trap-and-emulate', at.status.position!));
    replay.runToStop();
    const end = replay.last();
    expect(end.status).toMatchObject({ state: 'exited', exitCode: at.status.exitCode });
    expect(end.status.stopNote).toBe('The guest has exited with code 1 (replayed from the link)');
    expect(end.stats.trapTotal).toBe(at.stats.trapTotal);
    expect(end.stats.virtualTimeNs).toBe(at.stats.virtualTimeNs);
    expect(end.regs).toEqual(at.regs);
  });

  it('a damaged position is reported and the guest starts from the beginning', async () => {
    const h = harness();
    await h.core.handle(load('hello', 'native', 't5.zz'));
    const err = h.out.find((m) => m.type === 'error');
    expect(err).toMatchObject({ command: 'replay' });
    expect(err && 'message' in err ? err.message : '').toMatch(/damaged.*unknown step 'zz'/);
    expect(h.last().status).toMatchObject({ running: false, position: '' });
  });
});

describe('a run too long for a link', () => {
  it('reports no position rather than a truncated one', async () => {
    const h = harness();
    await h.core.handle(load('minikernel', 'native'));
    // Single instructions alternate with typed keys: every key is its own pair of tokens.
    for (let i = 0; i < 700; i++) {
      await h.core.handle({ type: 'step' });
      await h.core.handle({ type: 'serialInput', vm: 0, bytes: Uint8Array.of(0x61 + (i % 26)) });
    }
    await h.core.handle({ type: 'step' });
    expect(h.last().status.position).toBeNull();
  });
});
