import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { ESCAPE_HELP, HostConsole, INPUT_QUEUE_HIGH } from './console.ts';

/** A stand-in for process.stdin: a terminal (raw mode switchable) or a pipe. */
function fakeStdin(tty: boolean) {
  const e = new EventEmitter() as EventEmitter & Record<string, unknown>;
  const modes: boolean[] = [];
  const flow: string[] = [];
  Object.assign(e, {
    isTTY: tty,
    setRawMode: (on: boolean) => {
      modes.push(on);
      return e;
    },
    resume: () => {
      flow.push('resume');
      return e;
    },
    pause: () => {
      flow.push('pause');
      return e;
    },
    unref: () => e,
  });
  return {
    stream: e as unknown as NodeJS.ReadStream,
    modes,
    flow,
    emit: (s: string) => e.emit('data', Buffer.from(s, 'latin1')),
  };
}

function harness(tty: boolean) {
  const log: string[] = [];
  const f = fakeStdin(tty);
  const c = new HostConsole(f.stream, {
    input: (b) => log.push(`in:${Buffer.from(b).toString('latin1')}`),
    quit: () => log.push('quit'),
    notice: (t) => log.push(t === ESCAPE_HELP ? 'help' : `notice:${t}`),
    select: (vm) => log.push(`vm:${vm}`),
  });
  c.start();
  return { c, f, log };
}

describe('HostConsole', () => {
  it('on a terminal: raw mode, Ctrl-A escapes as in QEMU, restored on stop', () => {
    const { c, f, log } = harness(true);
    expect(f.modes).toEqual([true]);
    f.emit('ab\x03');
    f.emit('\x01'); // escape pending across chunks
    f.emit('\x01c\x01h\x012d\x01q\x01');
    f.emit('x');
    // C-a C-a is a literal C-a; C-a q (unknown) is swallowed; C-a h / C-a 2 act in order.
    expect(log).toEqual(['in:ab\x03', 'in:\x01c', 'help', 'vm:2', 'in:d', 'quit']);
    c.stop();
    c.stop();
    expect(f.modes).toEqual([true, false]);
  });

  it('queues piped input untouched for the run loop and reports EOF once it is taken', async () => {
    const { c, f, log } = harness(false);
    expect(f.modes).toEqual([]);
    const waiting = c.waitForInput();
    f.emit('\x01x\x00\xff');
    await waiting;
    expect(log).toEqual([]); // nothing pushed at the guest: the run loop takes it as there is room
    expect(c.queued).toBe(4);
    expect(Buffer.from(c.takeQueued(3)).toString('latin1')).toBe('\x01x\x00');
    (f.stream as unknown as EventEmitter).emit('end');
    expect(c.eof).toBe(true);
    expect(c.closed).toBe(false); // one byte still queued
    expect(Buffer.from(c.takeQueued(100)).toString('latin1')).toBe('\xff');
    expect(c.closed).toBe(true);
    await c.waitForInput(); // resolves at once after EOF
  });

  it('pauses piped stdin while its queue is full and resumes it once drained (backpressure)', () => {
    const { c, f } = harness(false);
    const chunk = 'y\n'.repeat(32 * 1024);
    let sent = 0;
    while (!f.flow.includes('pause')) {
      f.emit(chunk);
      sent += chunk.length;
      expect(sent).toBeLessThanOrEqual(INPUT_QUEUE_HIGH + chunk.length);
    }
    expect(c.queued).toBe(sent);
    c.takeQueued(4096);
    expect(f.flow.filter((x) => x === 'resume').length).toBe(1); // only start()'s resume so far
    c.takeQueued(sent);
    expect(f.flow.at(-1)).toBe('resume');
    expect(c.queued).toBe(0);
  });
});
