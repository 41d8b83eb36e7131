/** A page-table entry's flag bits, each shown on or struck through (Intel SDM Vol. 3A §4.3). */
const FLAGS: [number, string][] = [
  [0x1, 'P'],
  [0x2, 'RW'],
  [0x4, 'US'],
  [0x20, 'A'],
  [0x40, 'D'],
  [0x80, 'PS'],
];

export function Flags({ v }: { v: number }) {
  return (
    <span className="pw-flags">
      {FLAGS.map(([b, n]) => (
        <span key={n} className={v & b ? 'on' : 'off'}>
          {n}
        </span>
      ))}
    </span>
  );
}
