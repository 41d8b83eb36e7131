import { describe, expect, it } from 'vitest';
import { hexRuns } from './hex-runs.ts';

const text = (r: { text: string }[]) => r.map((x) => x.text).join('');

describe('hexRuns', () => {
  it('draws a 16-byte row as the bytes with a wider gap after the eighth, in few runs', () => {
    const row = Uint8Array.from({ length: 16 }, (_, i) => i + 1);
    const runs = hexRuns(row, () => false);
    expect(text(runs)).toBe('01 02 03 04 05 06 07 08  09 0A 0B 0C 0D 0E 0F 10');
    expect(runs).toEqual([{ cls: '', text: text(runs) }]);
  });

  it('groups zero and changed bytes, separators never styled', () => {
    const row = Uint8Array.from([0, 0, 0xab, 0xcd, 0, 0x10, 0x20, 0x30]);
    const runs = hexRuns(row, (i) => i === 3 || i === 4);
    expect(text(runs)).toBe('00 00 AB CD 00 10 20 30');
    expect(runs).toEqual([
      { cls: 'zero', text: '00 00' },
      { cls: '', text: ' AB ' },
      { cls: 'changed', text: 'CD 00' },
      { cls: '', text: ' 10 20 30' },
    ]);
    for (const r of runs) if (r.cls) expect(r.text).toBe(r.text.trim());
  });

  it('an eight-byte row has single gaps; an empty row has no runs', () => {
    expect(text(hexRuns(new Uint8Array(8).fill(0xff), () => false))).toBe('FF FF FF FF FF FF FF FF');
    expect(hexRuns(new Uint8Array(0), () => false)).toEqual([]);
  });
});
