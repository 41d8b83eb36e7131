import { describe, expect, it } from 'vitest';
import {
  appendOp,
  decodePosition,
  encodePosition,
  fromBase64Url,
  type PosOp,
  toBase64Url,
} from './position.ts';

describe('run position journal', () => {
  it('round-trips every kind of token', () => {
    const ops: PosOp[] = [
      { op: 't', n: 5 },
      { op: 'c', clock: 60_123_456, traps: 40 },
      { op: 'i', vm: 1, bytes: new TextEncoder().encode('uname -a\n') },
      { op: 's', n: 3 },
      { op: 'u', kind: 11, n: 2 },
    ];
    const s = encodePosition(ops);
    expect(s).toBe(`t5.c${(60_123_456).toString(36)}_14.i1dW5hbWUgLWEK.s3.ub_2`);
    expect(decodePosition(s)).toEqual(ops);
  });

  it('base64url matches the standard encoding without padding', () => {
    for (const text of ['', 'a', 'ab', 'abc', 'abcd', '\u00ff\u00fe?>']) {
      const bytes = Uint8Array.from(text, (c) => c.charCodeAt(0));
      const std = Buffer.from(bytes)
        .toString('base64')
        .replace(/=+$/, '')
        .replace(/\+/g, '-')
        .replace(/\//g, '_');
      expect(toBase64Url(bytes)).toBe(std);
      expect(Array.from(fromBase64Url(std))).toEqual(Array.from(bytes));
    }
  });

  it('merges adjacent tokens of the same kind', () => {
    const ops: PosOp[] = [];
    appendOp(ops, { op: 't', n: 1 });
    appendOp(ops, { op: 't', n: 1 });
    appendOp(ops, { op: 'c', clock: 10, traps: 3 });
    appendOp(ops, { op: 'c', clock: 20, traps: 4 });
    appendOp(ops, { op: 'i', vm: 0, bytes: Uint8Array.of(0x68) });
    appendOp(ops, { op: 'i', vm: 0, bytes: Uint8Array.of(0x69) });
    appendOp(ops, { op: 'u', kind: 2, n: 1 });
    appendOp(ops, { op: 'u', kind: 3, n: 1 });
    expect(encodePosition(ops)).toBe('t2.ck_4.i0aGk.u2_1.u3_1');
  });

  it('refuses damaged positions with the bad token named', () => {
    expect(() => decodePosition('t5.x9')).toThrow("unknown step 'x9'");
    expect(() => decodePosition('c-1')).toThrow(/is not c<clock>_<traps>/);
    expect(() => decodePosition('c1_-')).toThrow(/is not c<clock>_<traps>/);
    expect(() => decodePosition('t0')).toThrow(/counts nothing/);
    expect(() => decodePosition('i7AAAA', 1)).toThrow(/names no VM/);
    expect(() => decodePosition('i0A')).toThrow(/base64url/);
    expect(decodePosition('')).toEqual([]);
    // A clock without a trap count (older links) still decodes.
    expect(decodePosition('c1z')).toEqual([{ op: 'c', clock: 71, traps: 0 }]);
  });
});
