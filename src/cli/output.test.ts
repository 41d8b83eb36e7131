import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { UsageError } from './args.ts';
import { type ByteSink, bytesOf, openSink, VmPrefixer } from './output.ts';

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
});
