/**
 * A run position as a journal of what the user did since the guest (re)started, compact enough for
 * a URL. Emulation is deterministic (same guest + same input at the same virtual time ⇒ same run),
 * so replaying the journal on a fresh session reproduces the state exactly: same registers, same
 * trap log, same console.
 *
 * Tokens, joined by '.' (numbers in base 36):
 * - `c<clock>_<traps>`  run until the virtual clock (ticks: instructions + HLT skips) reaches
 *   <clock>, then on until the trap log holds <traps> records (a trapping instruction the VMM
 *   emulates takes no tick, so a run can stop right after one at the same clock)
 * - `t<n>`      n × "step to the next trap"
 * - `s<n>`      n × "step one instruction"
 * - `u<kind>_<n>` n × "run until a trap of <kind>"
 * - `i<vm><base64url>` bytes typed into VM <vm>'s serial port at this point
 *
 * Adjacent tokens of the same kind merge (t1.t1 → t2; c5.c9 → c9, since a run's end is invisible
 * to the guest; consecutive input to one VM concatenates).
 */

export type PosOp =
  | { op: 'c'; clock: number; traps: number }
  | { op: 't'; n: number }
  | { op: 's'; n: number }
  | { op: 'u'; kind: number; n: number }
  | { op: 'i'; vm: number; bytes: Uint8Array };

/** Longest encoded journal a link carries (browsers and servers cope with far longer URLs). */
export const MAX_POSITION_CHARS = 4000;

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

export function toBase64Url(bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i < bytes.length; i += 3) {
    const a = bytes[i];
    const b = i + 1 < bytes.length ? bytes[i + 1] : 0;
    const c = i + 2 < bytes.length ? bytes[i + 2] : 0;
    const v = (a << 16) | (b << 8) | c;
    s += B64[(v >> 18) & 63] + B64[(v >> 12) & 63];
    if (i + 1 < bytes.length) s += B64[(v >> 6) & 63];
    if (i + 2 < bytes.length) s += B64[v & 63];
  }
  return s;
}

export function fromBase64Url(s: string): Uint8Array {
  if (!/^[A-Za-z0-9_-]*$/.test(s) || s.length % 4 === 1) throw new Error(`'${s}' is not base64url`);
  const out: number[] = [];
  for (let i = 0; i < s.length; i += 4) {
    const q = s.slice(i, i + 4);
    let v = 0;
    for (let j = 0; j < 4; j++) v = (v << 6) | (j < q.length ? B64.indexOf(q[j]) : 0);
    out.push((v >> 16) & 255);
    if (q.length > 2) out.push((v >> 8) & 255);
    if (q.length > 3) out.push(v & 255);
  }
  return Uint8Array.from(out);
}

function b36(n: number): string {
  return n.toString(36);
}

function num(s: string, what: string): number {
  if (!/^[0-9a-z]+$/.test(s)) throw new Error(`${what} '${s}' is not a base-36 number`);
  const v = Number.parseInt(s, 36);
  if (!Number.isSafeInteger(v)) throw new Error(`${what} '${s}' is out of range`);
  return v;
}

export function encodePosition(ops: readonly PosOp[]): string {
  return ops
    .map((o) => {
      switch (o.op) {
        case 'c':
          return `c${b36(o.clock)}_${b36(o.traps)}`;
        case 't':
        case 's':
          return `${o.op}${b36(o.n)}`;
        case 'u':
          return `u${b36(o.kind)}_${b36(o.n)}`;
        case 'i':
          return `i${o.vm}${toBase64Url(o.bytes)}`;
        default:
          return '';
      }
    })
    .join('.');
}

/** Parse a journal; throws an Error naming the bad token. */
export function decodePosition(s: string, maxVm = 3): PosOp[] {
  if (s === '') return [];
  if (s.length > MAX_POSITION_CHARS * 2) throw new Error(`the position is too long (${s.length} characters)`);
  return s.split('.').map((t) => {
    const body = t.slice(1);
    switch (t[0]) {
      case 'c': {
        const m = /^([0-9a-z]+)(?:_([0-9a-z]+))?$/.exec(body);
        if (!m) throw new Error(`'${t.slice(0, 12)}' is not c<clock>_<traps>`);
        return {
          op: 'c',
          clock: num(m[1], 'clock'),
          traps: m[2] === undefined ? 0 : num(m[2], 'trap count'),
        };
      }
      case 't':
      case 's': {
        const n = num(body, 'count');
        if (n < 1) throw new Error(`'${t}' counts nothing`);
        return { op: t[0], n };
      }
      case 'u': {
        const m = /^([0-9a-z]+)_([0-9a-z]+)$/.exec(body);
        if (!m) throw new Error(`'${t}' is not u<kind>_<count>`);
        const kind = num(m[1], 'kind');
        const n = num(m[2], 'count');
        if (kind > 255 || n < 1) throw new Error(`'${t}' is out of range`);
        return { op: 'u', kind, n };
      }
      case 'i': {
        const vm = Number(body[0]);
        if (!(vm >= 0 && vm <= maxVm)) throw new Error(`'${t.slice(0, 12)}' names no VM`);
        return { op: 'i', vm, bytes: fromBase64Url(body.slice(1)) };
      }
      default:
        throw new Error(`unknown step '${t.slice(0, 12)}'`);
    }
  });
}

/** Append an op, merging it into the last one when they are of the same kind. */
export function appendOp(ops: PosOp[], o: PosOp): void {
  const last = ops.at(-1);
  if (last && last.op === o.op) {
    if (last.op === 'c' && o.op === 'c') {
      last.clock = Math.max(last.clock, o.clock);
      last.traps = Math.max(last.traps, o.traps);
      return;
    }
    if ((last.op === 't' || last.op === 's') && o.op === last.op) {
      last.n += o.n;
      return;
    }
    if (last.op === 'u' && o.op === 'u' && last.kind === o.kind) {
      last.n += o.n;
      return;
    }
    if (last.op === 'i' && o.op === 'i' && last.vm === o.vm) {
      const b = new Uint8Array(last.bytes.length + o.bytes.length);
      b.set(last.bytes);
      b.set(o.bytes, last.bytes.length);
      last.bytes = b;
      return;
    }
  }
  ops.push(o.op === 'i' ? { ...o, bytes: o.bytes.slice() } : { ...o });
}
