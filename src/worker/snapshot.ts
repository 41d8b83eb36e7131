/**
 * Converts the session's register snapshot (src/session/types.ts CpuSnapshot, with the VMM's
 * virtual CPU in `virtual`) into the protocol's `CpuView`.
 *
 * It also accepts a raw CPU state (a `regs` array in encoding order EAX ECX EDX EBX ESP EBP ESI
 * EDI; parallel `segSel`/`segBase`/`segLim`/`segAr` arrays in the order ES CS SS DS FS GS LDTR
 * TR), so tests and future snapshot variants convert the same way.
 */
import type { CpuView, RegSnapshot, SegmentView } from './protocol.ts';

const GPR_ORDER = ['eax', 'ecx', 'edx', 'ebx', 'esp', 'ebp', 'esi', 'edi'] as const;
const SEG_ORDER = ['es', 'cs', 'ss', 'ds', 'fs', 'gs', 'ldtr', 'tr'] as const;
const AR_UNUSABLE = 0x10000;
const EFLAGS_VM = 1 << 17;

type Obj = Record<string, unknown>;

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null;
}

function num(o: Obj, ...keys: string[]): number {
  for (const k of keys) {
    const v = o[k];
    if (typeof v === 'number') return v >>> 0;
  }
  return 0;
}

function arr(o: Obj, key: string): ArrayLike<number> | null {
  const v = o[key];
  if (Array.isArray(v) || ArrayBuffer.isView(v)) return v as unknown as ArrayLike<number>;
  return null;
}

function segFrom(name: string, v: unknown): SegmentView {
  if (!isObj(v)) return { name, selector: 0, base: 0, limit: 0, attrs: 0, valid: false };
  const attrs = num(v, 'attrs', 'ar', 'access');
  return {
    name,
    selector: num(v, 'selector', 'sel') & 0xffff,
    base: num(v, 'base'),
    limit: num(v, 'limit', 'lim'),
    // Descriptor high-dword bits 8–23: keep type/S/DPL/P and AVL/L/D-B/G, drop limit 19:16.
    attrs: attrs & 0xf0ff,
    valid: typeof v.valid === 'boolean' ? v.valid : (attrs & AR_UNUSABLE) === 0,
  };
}

function table(o: Obj, ...keys: string[]): { base: number; limit: number } {
  for (const k of keys) {
    const v = o[k];
    if (isObj(v)) return { base: num(v, 'base'), limit: num(v, 'limit') };
  }
  return { base: 0, limit: 0 };
}

/** Convert one CPU's state (real or virtual) into a CpuView; null when it is not a CPU state. */
export function toCpuView(state: unknown, label: string): CpuView | null {
  if (!isObj(state)) return null;
  const regs = arr(state, 'regs') ?? arr(state, 'gpr');
  const g =
    isObj(state.gpr) && !Array.isArray(state.gpr) && !ArrayBuffer.isView(state.gpr)
      ? (state.gpr as Obj)
      : state;
  const gpr = {} as CpuView['gpr'];
  GPR_ORDER.forEach((r, i) => {
    gpr[r] = regs ? (regs[i] ?? 0) >>> 0 : num(g, r);
  });
  const segSel = arr(state, 'segSel');
  const segs: SegmentView[] = SEG_ORDER.map((name, i) => {
    if (segSel) {
      const ar = (arr(state, 'segAr')?.[i] ?? 0) >>> 0;
      return {
        name,
        selector: (segSel[i] ?? 0) & 0xffff,
        base: (arr(state, 'segBase')?.[i] ?? 0) >>> 0,
        limit: (arr(state, 'segLim')?.[i] ?? 0) >>> 0,
        attrs: ar & 0xf0ff,
        valid: (ar & AR_UNUSABLE) === 0,
      };
    }
    const segsObj = isObj(state.segs) ? (state.segs as Obj) : isObj(state.seg) ? (state.seg as Obj) : state;
    const list = Array.isArray(state.segs) ? (state.segs as unknown[]) : null;
    const v = list ? list.find((s) => isObj(s) && s.name === name) : segsObj[name];
    return segFrom(name, v);
  });
  const eflags = num(state, 'eflags', 'flags');
  const cr0 = isObj(state.cr) ? num(state.cr as Obj, 'cr0') : num(state, 'cr0');
  const crObj = isObj(state.cr) ? (state.cr as Obj) : state;
  const cs = segs[1];
  const mode: CpuView['mode'] = (cr0 & 1) === 0 ? 'real' : eflags & EFLAGS_VM ? 'v86' : 'protected';
  return {
    label,
    gpr,
    eip: num(state, 'eip'),
    eflags,
    cpl:
      typeof state.cpl === 'number' ? state.cpl : mode === 'real' ? 0 : mode === 'v86' ? 3 : cs.selector & 3,
    mode,
    segs,
    cr: { cr0, cr2: num(crObj, 'cr2'), cr3: num(crObj, 'cr3'), cr4: num(crObj, 'cr4') },
    gdtr: isObj(state.gdtr)
      ? table(state, 'gdtr')
      : { base: num(state, 'gdtBase'), limit: num(state, 'gdtLimit') },
    idtr: isObj(state.idtr)
      ? table(state, 'idtr')
      : { base: num(state, 'idtBase'), limit: num(state, 'idtLimit') },
    ldtr: segs[6].selector,
    tr: segs[7].selector,
    halted: state.halted === true,
  };
}

/**
 * The session's snapshot: either a CPU state itself, or `{ real, virtual?, vm? }` (also accepted:
 * `cpu`/`host` for the real CPU, `guest`/`vcpu` for the virtual one).
 */
export function toRegSnapshot(snap: unknown): RegSnapshot | null {
  if (!isObj(snap)) return null;
  const realState = snap.real ?? snap.cpu ?? snap.host;
  const virtState = snap.virtual ?? snap.vcpu ?? snap.guest;
  const vm = typeof snap.vm === 'number' ? snap.vm : typeof snap.currentVm === 'number' ? snap.currentVm : 0;
  const real = toCpuView(realState ?? snap, 'Real CPU');
  if (!real) return null;
  const out: RegSnapshot = { real, vm };
  const virt = virtState ? toCpuView(virtState, `VM ${vm} virtual CPU`) : null;
  if (virt) out.virtual = virt;
  return out;
}
