import { describe, expect, it } from 'vitest';
import {
  explanations,
  REG_MASK_NAMES,
  regBit,
  silentSummary,
  TRAP_FLAG_CPL_SHIFT,
  TRAP_KIND_COUNT,
  TRAP_RECORD_BYTES,
  TrapAction,
  TrapFlag,
  TrapKind,
  TrapLog,
  TrapOp,
} from './trap-log.ts';

/** Append an OUT to port 0x3F8 whose value is `i & 0xFF`, at time i*100 ns, on VM i % vms. */
function fillOut(log: TrapLog, n: number, vms = 1): void {
  const insn = new Uint8Array([0xee]); // out dx, al
  for (let i = 0; i < n; i++) {
    log.append(
      i % vms,
      TrapKind.PortIo,
      TrapOp.OUT,
      i * 100,
      0x08,
      0x1000 + i,
      TrapFlag.Out | TrapFlag.Code32,
      TrapAction.Emulated,
      3000,
    );
    log.setDetails(0x3f8, 1, i & 0xff, 1);
    log.setInstruction(insn, 0, 1);
  }
}

describe('TrapLog', () => {
  it('stores every field of a record and decodes it by kind', () => {
    const log = new TrapLog();
    const bytes = new Uint8Array([0x90, 0x0f, 0x22, 0xd8, 0x90]);
    const seq = log.append(
      2,
      TrapKind.ControlRegister,
      TrapOp.MOV_TO_CR,
      12345,
      0x0009,
      0xc0101234,
      TrapFlag.Code32 | (1 << TRAP_FLAG_CPL_SHIFT),
      TrapAction.Emulated,
      1500,
    );
    log.setDetails(3, 0x1000, 0x2000);
    log.setInstruction(bytes, 1, 3); // mov cr3, eax
    log.setRegMask(regBit('cr3') | regBit('eip'));
    expect(seq).toBe(0);
    expect(log.count).toBe(1);
    const r = log.get(0);
    expect(r).toMatchObject({
      seq: 0,
      timeNs: 12345,
      vm: 2,
      kind: TrapKind.ControlRegister,
      kindName: 'control register',
      reason: TrapOp.MOV_TO_CR,
      reasonName: 'mov to cr',
      cs: 9,
      eip: 0xc0101234,
      cpl: 1,
      code32: true,
      bytes: [0x0f, 0x22, 0xd8],
      action: TrapAction.Emulated,
      actionName: 'emulated',
      cost: 1500,
      invisible: false,
      details: { type: 'cr', cr: 3, old: 0x1000, new: 0x2000 },
    });
    expect(r.changedRegs.sort()).toEqual(['cr3', 'eip']);
    // Structured-clone-able plain data.
    expect(structuredClone(r)).toEqual(r);
  });

  it('decodes port I/O, faults, interrupts, switches and silent events', () => {
    const log = new TrapLog();
    log.append(0, TrapKind.PortIo, TrapOp.IN, 0, 8, 0, TrapFlag.Code32, TrapAction.Emulated, 10);
    log.setDetails(0x3fd, 1, 0x60, 1);
    log.append(0, TrapKind.GuestException, 14, 0, 8, 0, TrapFlag.HasErrorCode, TrapAction.Reflected, 10);
    log.setDetails(0xdeadb000, 6);
    log.append(0, TrapKind.GuestException, 0, 0, 8, 0, 0, TrapAction.Reflected, 10);
    log.append(1, TrapKind.Interrupt, 0x20, 0, 8, 0, 0, TrapAction.Injected, 10);
    log.setDetails(0);
    log.append(1, TrapKind.WorldSwitch, 0, 0, 8, 0, 0, TrapAction.Switched, 10);
    log.setDetails(1, 2);
    log.append(0, TrapKind.SilentEvent, TrapOp.POPF, 0, 8, 0, TrapFlag.Invisible, TrapAction.None, 0);
    log.append(0, TrapKind.VmExit, 30, 0, 8, 0, 0, TrapAction.Emulated, 10);
    log.append(0, TrapKind.Hypercall, 18, 0, 8, 0, 0, TrapAction.Emulated, 10);
    const [io, pf, de, irq, sw, silent, exit, hc] = Array.from({ length: 8 }, (_, i) => log.get(i));
    expect(io.details).toEqual({
      type: 'io',
      port: 0x3fd,
      size: 1,
      direction: 'in',
      value: 0x60,
      count: 1,
      string: false,
    });
    expect(pf.reasonName).toBe('#PF page fault');
    expect(pf.details).toEqual({ type: 'fault', vector: 14, faultAddress: 0xdeadb000, errorCode: 6 });
    expect(de.details).toEqual({ type: 'fault', vector: 0, faultAddress: 0, errorCode: null });
    expect(irq.details).toEqual({ type: 'interrupt', vector: 0x20, irq: 0 });
    expect(sw.details).toEqual({ type: 'switch', fromVm: 1, toVm: 2 });
    expect(silent.invisible).toBe(true);
    expect(silent.reasonName).toBe('popf');
    expect(silent.details).toMatchObject({
      type: 'other',
      summary: expect.stringMatching(/^POPF loaded IF=0/),
    });
    expect(exit.reasonName).toBe('I/O instruction');
    expect(hc.reasonName).toBe('console_io');
  });

  it('summarises each kind of silent event with what the guest got and what it would get natively', () => {
    const popf = silentSummary(TrapOp.POPF, 0x246, 0x046, 1, 0);
    expect(popf).toMatch(/POPF loaded IF=1.*virtual IF=0: the guest believes interrupts are back on/);
    expect(silentSummary(TrapOp.PUSH_SEG, 0x09, 0x08, 4, 0)).toMatch(
      /read selector 0x0009: its RPL \(1\).*ring 1\. On the bare machine it would have read 0x0008 \(RPL 0\)/,
    );
    expect(silentSummary(TrapOp.SIDT, 0xffc01000, 0x81000, 5, (0x7ff << 16) | 0x17f)).toMatch(
      /SIDT stored base 0xFFC01000 limit 0x07FF.*base 0x00081000 limit 0x017F/,
    );
    expect(silentSummary(TrapOp.LSL, 0, 0x67, 8, (0x28 << 16) | 1)).toMatch(
      /LSL on selector 0x0028 answered ZF=0 .* answered ZF=1 \(0x00000067\)/,
    );
    expect(silentSummary(TrapOp.PUSHF, 0x202, 0x002, 9, 0)).toMatch(
      /IF=1.*would have read 0x00000002 \(IF=0/,
    );
    expect(silentSummary(TrapOp.SMSW, 0x31, 0x11, 7, 0)).toMatch(/SMSW stored 0x0031.*0x0011/);
  });

  it('drops the oldest records when full and counts them', () => {
    const log = new TrapLog({ maxRecords: 100, initialCapacity: 8 });
    fillOut(log, 250);
    expect(log.count).toBe(100);
    expect(log.dropped).toBe(150);
    expect(log.total).toBe(250);
    expect(log.capacity).toBe(100);
    expect(log.get(0).seq).toBe(150);
    expect(log.get(99).seq).toBe(249);
    expect(log.get(99).details).toMatchObject({ value: 249 & 0xff });
    for (let i = 0; i < 100; i++) expect(log.get(i).eip).toBe(0x1000 + 150 + i);
    expect(() => log.get(100)).toThrow(RangeError);
    expect(() => log.get(-1)).toThrow(RangeError);
    expect(log.countByKind(TrapKind.PortIo)).toBe(250); // totals survive dropping
  });

  it('grows from a small initial capacity without losing records', () => {
    const log = new TrapLog({ maxRecords: 1000, initialCapacity: 3 });
    fillOut(log, 700);
    expect(log.dropped).toBe(0);
    expect(log.count).toBe(700);
    for (let i = 0; i < 700; i += 37) {
      const r = log.get(i);
      expect([r.seq, r.eip, r.bytes]).toEqual([i, 0x1000 + i, [0xee]]);
    }
  });

  it('slices packed columns across the ring wrap point', () => {
    const log = new TrapLog({ maxRecords: 64, initialCapacity: 64 });
    fillOut(log, 100); // head is now at physical slot 36
    const cols = log.slice(20, 50);
    expect(cols.start).toBe(20);
    expect(cols.count).toBe(30);
    expect(cols.insn.length).toBe(30 * 16);
    for (let k = 0; k < 30; k++) {
      const r = log.get(20 + k);
      expect(cols.seq[k]).toBe(r.seq);
      expect(cols.eip[k]).toBe(r.eip);
      expect(cols.d2[k]).toBe(r.details.type === 'io' ? r.details.value : -1);
      expect(cols.insn[k * 16]).toBe(0xee);
      expect(cols.insnLen[k]).toBe(1);
    }
    // Out-of-range bounds are clamped; buffers are independent copies.
    expect(log.slice(60, 1000).count).toBe(4);
    expect(log.slice(10, 5).count).toBe(0);
    cols.eip[0] = 0;
    expect(log.get(20).eip).not.toBe(0);
  });

  it('filters by VM, kind and action', () => {
    const log = new TrapLog();
    fillOut(log, 30, 3);
    log.append(1, TrapKind.HiddenPageFault, 14, 0, 8, 0, 0, TrapAction.ShadowFill, 5);
    expect(Array.from(log.filter({ vm: 1 })).length).toBe(11);
    expect(Array.from(log.filter({ vm: 1, kind: TrapKind.PortIo }))).toEqual([
      1, 4, 7, 10, 13, 16, 19, 22, 25, 28,
    ]);
    expect(Array.from(log.filter({ kind: [TrapKind.HiddenPageFault, TrapKind.Interrupt] }))).toEqual([30]);
    expect(Array.from(log.filter({ action: TrapAction.ShadowFill }))).toEqual([30]);
    expect(log.filter({}).length).toBe(31);
  });

  it('writes JSON Lines, one parseable record per line, with disassembly when available', () => {
    const log = new TrapLog();
    fillOut(log, 600);
    log.disassembler = (bytes, eip, code32) =>
      `${bytes[0] === 0xee ? 'out dx,al' : '?'} @${eip.toString(16)}/${code32}`;
    const chunks: string[] = [];
    log.writeJsonLines((c) => chunks.push(c));
    expect(chunks.length).toBe(3); // 256-record chunks
    const lines = chunks.join('').split('\n');
    expect(lines.pop()).toBe('');
    expect(lines.length).toBe(600);
    const r = JSON.parse(lines[599]);
    expect(r).toMatchObject({
      seq: 599,
      kindName: 'port I/O',
      reasonName: 'out',
      disasm: 'out dx,al @1257/true',
    });
    expect(r.details).toMatchObject({ port: 0x3f8, direction: 'out', value: 599 & 0xff });
  });

  it('exports Chrome trace events with one process per VM', () => {
    const log = new TrapLog();
    fillOut(log, 4, 2);
    const t = log.toTraceEvents();
    const meta = t.traceEvents.filter((e) => e.ph === 'M');
    expect(meta.map((e) => e.args.name)).toEqual(['VM 0', 'VM 1']);
    const inst = t.traceEvents.filter((e) => e.ph === 'i');
    expect(inst.length).toBe(4);
    expect(inst[3]).toMatchObject({ name: 'port I/O: out', pid: 1, ts: 0.3 });
    expect(inst[3].args).toMatchObject({ seq: 3, cs_eip: '0008:00001003', action: 'emulated' });
    expect(JSON.parse(JSON.stringify(t))).toEqual(t);
    // The streamed form is the same document.
    const big = new TrapLog();
    fillOut(big, 3000, 3);
    let text = '';
    let chunks = 0;
    big.writeTraceEvents((c) => {
      text += c;
      chunks++;
    });
    expect(chunks).toBeGreaterThan(1);
    expect(JSON.parse(text)).toEqual(big.toTraceEvents());
    let empty = '';
    new TrapLog().writeTraceEvents((c) => {
      empty += c;
    });
    expect(JSON.parse(empty)).toEqual({ traceEvents: [], displayTimeUnit: 'ns' });
  });

  it('explains every kind and names every register bit', () => {
    for (const k of Object.values(TrapKind)) {
      expect(k).toBeLessThan(TRAP_KIND_COUNT);
      const text = explanations[k];
      expect(text.length).toBeGreaterThan(200);
    }
    expect(explanations[TrapKind.SilentEvent]).toMatch(/[Ii]nvisible/);
    expect(REG_MASK_NAMES.length).toBeLessThanOrEqual(32);
  });

  it('keeps appends on preallocated storage once at capacity', () => {
    const log = new TrapLog({ maxRecords: 1024, initialCapacity: 1024 });
    fillOut(log, 5000);
    // Capacity never grew past maxRecords; memory is bounded by maxRecords * TRAP_RECORD_BYTES.
    expect(log.capacity).toBe(1024);
    expect(TRAP_RECORD_BYTES).toBeLessThan(80);
    expect(log.count).toBe(1024);
    expect(log.dropped).toBe(5000 - 1024);
    log.clear();
    expect(log.count).toBe(0);
    fillOut(log, 1);
    expect(log.get(0).seq).toBe(5000);
  });

  it('rejects a bad size and truncates over-long instructions', () => {
    expect(() => new TrapLog({ maxRecords: 0 })).toThrow(RangeError);
    const log = new TrapLog();
    log.append(0, TrapKind.PrivilegedInstruction, TrapOp.CLI, 0, 8, 0, 0, TrapAction.Emulated, 1);
    log.setInstruction(new Uint8Array(20).fill(0x66), 0, 20);
    expect(log.get(0).bytes.length).toBe(15);
    log.setOutcome(TrapAction.Reflected, 99);
    expect(log.get(0)).toMatchObject({ action: TrapAction.Reflected, cost: 99, reasonName: 'cli' });
  });
});
