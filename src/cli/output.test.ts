import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { TrapAction, TrapKind, TrapLog, TrapOp } from '../hypervisor/vmm/trap-log.ts';
import { UsageError } from './args.ts';
import { type ByteSink, bytesOf, openSink, TraceStreamer, VmPrefixer } from './output.ts';

const text = (b: Uint8Array) => new TextDecoder('latin1').decode(b);

describe('CLI output sinks', () => {
  it('prefixes each line of each VM across partial writes', () => {
    const chunks: string[] = [];
    const sink: ByteSink = { write: (b) => chunks.push(text(b)), close() {} };
    const p = new VmPrefixer(sink);
    p.write(0, bytesOf('boot'));
    p.write(1, bytesOf('one\ntw'));
    p.write(0, bytesOf('ed\n'));
    p.write(1, bytesOf('o\n'));
    expect(chunks.join('')).toBe('[vm0] boot\n[vm1] one\n[vm1] tw\n[vm0] ed\n[vm1] o\n');
  });

  it('writes files and reports unwritable paths as usage errors', () => {
    const dir = mkdtempSync(join(tmpdir(), 'traplab-out-'));
    const path = join(dir, 'serial.txt');
    const s = openSink({ kind: 'file', path }, '--serial');
    s.write(bytesOf('abc\xff'));
    s.write(new Uint8Array(0));
    s.close();
    expect(Array.from(readFileSync(path))).toEqual([0x61, 0x62, 0x63, 0xff]);
    expect(() => openSink({ kind: 'file', path: join(dir, 'no', 'x') }, '--debugcon')).toThrow(UsageError);
    expect(() => openSink({ kind: 'file', path: join(dir, 'no', 'x') }, '--debugcon')).toThrow(
      /--debugcon: cannot write .*: no such file/,
    );
    openSink({ kind: 'none' }, '--serial').write(bytesOf('dropped'));
  });

  it('streams new trap records as JSON Lines and counts the ones dropped before writing', () => {
    const log = new TrapLog({ maxRecords: 8, initialCapacity: 8 });
    let file = '';
    const t = new TraceStreamer(log, (c) => {
      file += c;
    });
    const add = (n: number) => {
      for (let i = 0; i < n; i++)
        log.append(
          0,
          TrapKind.PrivilegedInstruction,
          TrapOp.HLT,
          10 * log.total,
          8,
          0,
          0,
          TrapAction.Blocked,
          1,
        );
    };
    t.drain();
    expect(file).toBe('');
    add(3);
    t.drain();
    add(2);
    t.drain();
    add(20); // the ring keeps only 8: 12 are lost
    t.drain();
    t.drain();
    const seqs = file
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l).seq);
    expect(seqs).toEqual([0, 1, 2, 3, 4, ...Array.from({ length: 8 }, (_, i) => 17 + i)]);
    expect(t.lost).toBe(12);
    expect(JSON.parse(file.split('\n')[0])).toMatchObject({
      kindName: 'privileged instruction',
      reasonName: 'hlt',
    });
  });
});
