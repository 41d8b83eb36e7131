/**
 * The Cpu: run loop, reset/loader entry points, state save/restore and stepping hooks.
 * See README.md for the internal map.
 */

import { LINK_BLK, LINK_EPOCH } from './block-fused.ts';
import { movRR } from './block-ops.ts';
import {
  BlockCache,
  H_BLK0,
  H_BLK1,
  H_COUNT,
  H_EPOCH,
  H_IP0,
  H_IP1,
  H_JIT,
  H_RECORDS,
  H_RUNS,
  HANDLERS,
  HDR,
  I_MOVRR,
  REC,
} from './blocks.ts';
import type { InterruptLine, IoBus, MemoryBus } from './bus.ts';
import {
  AR_ACCESSED,
  AR_P,
  AR_RW,
  AR_S,
  CPU_SIGNATURE,
  CR0_PE,
  CS,
  DB,
  DS,
  EDX,
  ES,
  FAULT,
  FS,
  GS,
  IF,
  LDTR,
  RF,
  SS,
  StopReason,
  TF,
  TR,
} from './constants.ts';
import { CpuCore } from './core.ts';
import { blockTuning, fastPaths, jitTuning } from './fastpaths.ts';
import { CPU_WIDE_FIELDS, EVENT_WIDE_FIELDS, settleFields, settleObjectField } from './field-reps.ts';
import { Fpu } from './fpu/fpu.ts';
import { EventKind, setQuickLength } from './interrupts.ts';
import { compileBlock } from './jit.ts';
import { REGION_ATTENTION, REGION_DONE, Regions, regionExit } from './jit-region.ts';
import { Traces } from './jit-trace.ts';
import { execute } from './ops-main.ts';
import { predecode } from './predecode.ts';
import { CpuSeg } from './segments.ts';
import { restoreVmx, saveVmx, type VmxState } from './vmx/state.ts';

export type RegName = 'eax' | 'ecx' | 'edx' | 'ebx' | 'esp' | 'ebp' | 'esi' | 'edi';
/** fastLoop's results: back to run() for its checks; a fault to deliver; a block due for jit.ts. */
const LOOP_DONE = 0;
const LOOP_FAULT = 1;
const LOOP_JIT = 2;
/** Most instructions one fastLoop call may run (it returns; run() calls it again). */
const FAST_MAX = 0x3fffffff;
/** fastLoop's out-of-band results (module variables: storing them needs no type feedback). */
let loopThrown: unknown;
let loopBlock = -1;

const REG_NAMES: RegName[] = ['eax', 'ecx', 'edx', 'ebx', 'esp', 'ebp', 'esi', 'edi'];

/** One segment register with its hidden descriptor cache. */
export interface SegState {
  sel: number;
  base: number;
  limit: number;
  /** Access rights: descriptor byte 5 in bits 0–7, AVL/L/DB/G in bits 12–15; bit 16 = unusable. */
  ar: number;
}

/** The whole architectural state as one structured-clone-able value. */
export interface CpuState {
  regs: number[];
  eip: number;
  eflags: number;
  /** ES CS SS DS FS GS LDTR TR. */
  segs: SegState[];
  cpl: number;
  cr0: number;
  cr2: number;
  cr3: number;
  cr4: number;
  dr: number[];
  gdtr: { base: number; limit: number };
  idtr: { base: number; limit: number };
  msr: { sysenterCs: number; sysenterEsp: number; sysenterEip: number; tscOffset: number };
  halted: boolean;
  a20: boolean;
  instructions: number;
  shadow: boolean;
  /** x87 state (Fpu.save()) when the machine has an FPU. */
  fpu?: number[];
  /** VMX operation, the VMCSs and root/non-root (vmx/state.ts); absent in older snapshots. */
  vmx?: VmxState;
}

// A monitored fault's full instruction length: the pre-decoder before the disassembler (the
// disassembler cost ~2.6 % of a BT Linux boot, where the VMM watches every fault).
setQuickLength((buf, n, eip) => predecode(buf, 0, eip, n, 0xffffffff)?.len ?? -1);

export class Cpu extends CpuCore {
  /** Stop with StopReason.Breakpoint before executing at this linear address (-1: off). */
  breakLinear = -1;
  /** Stop with StopReason.Breakpoint right after any exception/interrupt is delivered. */
  breakOnEvent = false;
  private resumeSkip = false;
  /** Set by requestStop(): end run() at the next instruction boundary. */
  private stopRequested = false;
  /**
   * Delivered events (faults, interrupts). They consume run() budget so a monitor that resumes
   * without progress cannot spin forever, but they are not retired instructions.
   */
  eventSteps = 0;
  /** Set by a compiled block (jit.ts) that faulted: the arena offset of the faulting record. */
  faultK = -1;
  /** Pre-decoded blocks (blocks.ts); the interpreter runs whatever they do not cover. */
  readonly blocks = new BlockCache(this.code);
  /** Second-tier regions (jit-region.ts; jitTuning.regions). */
  readonly regions = new Regions(this.blocks);
  /** Traces (jit-trace.ts; jitTuning.traces): run through the regions' branch of fastLoop. */
  readonly traces = new Traces(this.blocks);

  constructor(mem: MemoryBus, io: IoBus, intr: InterruptLine) {
    super(mem, io, intr);
    // Before anything is optimized: the object's map must not change while a guest runs.
    settleFields(this, CPU_WIDE_FIELDS);
    settleFields(this.event, EVENT_WIDE_FIELDS);
    // The TLB views switch on the first CPL 3 entry (updateTlbViews).
    settleObjectField(this, 'tlbR', this.tlbRU);
    settleObjectField(this, 'tlbW', this.tlbWU);
    settleFields(this.blocks);
    settleFields(this.code);
    this.reset();
  }

  /**
   * Hand this CPU's TLB and block-cache buffers, zeroed, to the next CPU created (fresh-buffer.ts):
   * it then starts on resident pages instead of faulting fresh ones in as it runs. The CPU must
   * not be used afterwards (Pc.dispose and Session.dispose enforce it).
   */
  dispose(): void {
    this.releaseTables();
    this.blocks.dispose();
  }

  /** Give this CPU an x87 (or take it away): CPUID then reports FPU and ESC executes. */
  setFpu(on: boolean): void {
    this.fpu = on ? new Fpu() : null;
  }

  /** Power-on/RESET state (SDM Vol.3 §9.1.1, Table 9-1). */
  reset(): void {
    this.fpu?.powerOn();
    this.regs.fill(0);
    this.regs[EDX] = CPU_SIGNATURE;
    this.lzMask = 0;
    this.flags = 2;
    this.cr0 = 0x60000010;
    this.cr2 = 0;
    this.cr3 = 0;
    this.cr4 = 0;
    this.dr.fill(0);
    this.dr[6] = 0xffff0ff0 | 0;
    this.dr[7] = 0x400;
    this.gdtBase = 0;
    this.gdtLimit = 0xffff;
    this.idtBase = 0;
    this.idtLimit = 0xffff;
    this.cpl = 0;
    this.acOn = false;
    const data = AR_P | AR_S | AR_RW | AR_ACCESSED;
    for (const s of [ES, SS, DS, FS, GS]) this.setSeg(s, 0, 0, 0xffff, data);
    this.setSeg(CS, 0xf000, 0xffff0000 | 0, 0xffff, data);
    this.setSeg(LDTR, 0, 0, 0xffff, 0x82);
    this.setSeg(TR, 0, 0, 0xffff, 0x8b);
    this.ip = 0xfff0;
    this.eip = 0xfff0;
    this.sysenterCs = 0;
    this.sysenterEsp = 0;
    this.sysenterEip = 0;
    this.halted = false;
    this.shutdown = false;
    this.shutdownReason = '';
    this.shadow = false;
    this.monitorStop = false;
    this.a20Mask = -1;
    this.blocks.reset();
    this.regions.reset();
    this.traces.reset();
    this.code.clear();
    this.updateTlbViews();
    this.flushTlb(false);
    this.attention = true;
    this.checkIntr = true;
  }

  setA20(enabled: boolean): void {
    this.a20Mask = enabled ? -1 : 0xffefffff | 0;
    this.flushTlb(false);
  }

  interruptCheck(): void {
    this.checkIntr = true;
    this.attention = true;
  }

  /**
   * End the current run() at the next instruction boundary (after the instruction in progress
   * retires, or after an event being delivered), returning StopReason.Budget. Called by devices
   * during run() (debug-exit, reset, a newly armed timer deadline); a request made outside run()
   * is forgotten when the next run() starts.
   *
   * The machine's timer hook asks for a stop only for deadlines earlier than the last
   * guest-determined one (`d < knownDeadline` in src/machine/pc.ts), so the stop point never
   * depends on how the host slices time.
   */
  requestStop(): void {
    this.stopRequested = true;
    this.attention = true;
  }

  private setRegs(regs?: Partial<Record<RegName, number>>): void {
    if (!regs) return;
    for (let i = 0; i < 8; i++) {
      const v = regs[REG_NAMES[i]];
      if (v !== undefined) this.regs[i] = v;
    }
  }

  /** Multiboot / Linux 32-bit boot protocol entry: flat 32-bit protected mode, paging off. */
  enterProtectedFlat(eip: number, regs?: Partial<Record<RegName, number>>): void {
    this.cr0 = (this.cr0 | CR0_PE) & ~0x80000000;
    this.lzMask = 0;
    this.flags = 2;
    this.setCpl(0);
    this.setSeg(CS, 0x10, 0, 0xffffffff, CpuSeg.flatAr(true, 0));
    for (const s of [ES, SS, DS, FS, GS]) this.setSeg(s, 0x18, 0, 0xffffffff, CpuSeg.flatAr(false, 0));
    this.setRegs(regs);
    this.refreshAc();
    this.ip = eip >>> 0;
    this.eip = this.ip;
    this.halted = false;
    this.flushTlb(false);
    this.attention = true;
  }

  /** Real mode at cs:ip, all segment registers = cs. */
  enterReal(cs: number, ip: number, regs?: Partial<Record<RegName, number>>): void {
    this.cr0 &= ~(CR0_PE | 0x80000000);
    this.lzMask = 0;
    this.flags = 2;
    this.setCpl(0);
    const data = AR_P | AR_S | AR_RW | AR_ACCESSED;
    for (const s of [ES, SS, DS, FS, GS]) this.setSeg(s, cs, cs << 4, 0xffff, data);
    this.setSeg(CS, cs, cs << 4, 0xffff, data);
    this.setRegs(regs);
    this.refreshAc();
    this.ip = ip & 0xffff;
    this.eip = this.ip;
    this.halted = false;
    this.flushTlb(false);
    this.attention = true;
  }

  /**
   * Run until `budget` instructions retired or something stops the CPU. Delivering an
   * exception or interrupt consumes one step of the budget (see eventSteps) without counting
   * as a retired instruction.
   */
  run(budget: number): StopReason {
    const end = this.instructions + this.eventSteps + budget;
    // State may have been changed from outside since the last run (TF, DR7, IF, INTR…).
    this.attention = true;
    this.checkIntr = true;
    this.stopRequested = false;
    // VMX root code is about to run on translations a guest's VPID left in the TLB (vmx.ts).
    if (this.vmx.tlbTag !== 0 && !this.vmxNonRoot) this.vmx.rootTlb();
    for (;;) {
      if (this.shutdown) return StopReason.Shutdown;
      if (this.monitorStop) {
        this.monitorStop = false;
        return StopReason.Monitor;
      }
      if (this.stopRequested) {
        this.stopRequested = false;
        return StopReason.Budget;
      }
      if (this.eventDelivered) {
        this.eventDelivered = false;
        if (this.breakOnEvent) return StopReason.Breakpoint;
      }
      if (this.halted) {
        // VMX non-root in the HLT activity state: interrupt exiting and the preemption timer still
        // end it with a VM exit (SDM Vol.3C §25.2, §25.5.1).
        if (this.vmxNonRoot) {
          if (this.instructions >= this.vmxTimerAt) {
            this.vmx.timerExit();
            continue;
          }
          if (this.vmx.boundaryExit()) continue;
        }
        if ((this.flags & IF) !== 0 && this.intr.hasInterrupt()) {
          this.halted = false;
          this.takeInterrupt();
          continue;
        }
        return StopReason.Halt;
      }
      if (this.instructions >= this.vmxTimerAt) {
        // The VMX-preemption timer reached zero: the exit comes before the next instruction
        // (SDM Vol.3C §25.5.1), so before the run's budget is looked at.
        this.vmx.timerExit();
        continue;
      }
      if (this.instructions + this.eventSteps >= end) return StopReason.Budget;
      if (this.attention) {
        if (this.boundary()) continue;
      }
      if (this.attention) {
        if (this.breakLinear !== -1 && ((this.csBase + this.ip) | 0) === (this.breakLinear | 0)) {
          if (!this.resumeSkip) {
            this.resumeSkip = true;
            return StopReason.Breakpoint;
          }
        }
        this.resumeSkip = false;
        this.stepSlow();
        continue;
      }
      const left = end - this.instructions - this.eventSteps;
      let n = this.vmxTimerAt < end ? Math.min(left, this.vmxTimerAt - this.instructions) : left;
      // The blocks tier engages at blockTuning.blocksAfter (fastLoop): a call stops there.
      const from = blockTuning.blocksAfter;
      if (this.instructions < from && n > from - this.instructions) n = from - this.instructions;
      // A small integer (a Smi): a larger or fractional count deoptimized fastLoop ("not a Smi").
      const r = this.fastLoop(n < FAST_MAX ? n | 0 : FAST_MAX);
      if (r !== LOOP_DONE) this.loopExit(r);
    }
  }

  /**
   * Boundary work when `attention` is set. Returns true when an event was delivered (the caller
   * re-evaluates). Leaves `attention` set when the next instruction must also take the slow path.
   */
  private boundary(): boolean {
    this.attention = false;
    if (this.shadow) {
      // This boundary follows MOV SS/POP SS/STI (SDM §6.8.3): no interrupt here; the next
      // instruction runs in the slow path and the boundary after it samples INTR again.
      this.shadow = false;
      this.attention = true;
      return false;
    }
    if (this.checkIntr) {
      this.checkIntr = false;
      // VMX non-root: external-interrupt exiting and the interrupt window (SDM Vol.3C §25.2, §25.6).
      if (this.vmxNonRoot && this.vmx.boundaryExit()) {
        this.attention = true;
        this.checkIntr = true;
        return true;
      }
      if ((this.flags & IF) !== 0 && this.intr.hasInterrupt()) {
        this.takeInterrupt();
        this.attention = true;
        this.checkIntr = true;
        return true;
      }
    }
    if (
      this.flags & (TF | RF) ||
      this.dr[7] & 0xff ||
      this.breakLinear !== -1 ||
      this.shadow ||
      this.breakOnEvent
    )
      this.attention = true;
    return false;
  }

  private takeInterrupt(): void {
    const vec = this.intr.acknowledge() & 0xff;
    this.eip = this.ip;
    try {
      this.event.instrEip = this.ip;
      this.deliver(vec, EventKind.External, -1, this.ip);
    } catch (e) {
      if (e !== FAULT) throw e;
      this.deliverFault();
    }
    this.eventDelivered = true;
    this.attention = true;
    this.eventSteps++;
  }

  /**
   * No operation here may first run after V8 optimized this loop (a path never taken before has
   * no type feedback and deoptimizes it). Besides the re-compile, Node 20's V8 that deoptimizes it
   * while its on-stack-replacement compile is in flight never optimizes it whole again: every later
   * call ran its first block unoptimized, ~1 µs each, 1.25× on minikernel-bench warm (run() calls
   * this ~10 k times a million instructions there; PERF.md, "Session 11 — tier11").
   */
  private fastLoop(n: number): number {
    const cache = fastPaths.blockCache && this.instructions >= blockTuning.blocksAfter ? this.blocks : null;
    const arena = this.blocks.arena;
    const arenaU = this.blocks.arenaU;
    const compiled = this.blocks.compiled;
    const jit = fastPaths.jit;
    // Arena offset of the pre-decoded instruction running (-1: the interpreter's own step).
    let k = -1;
    // The block that ran last (its links may name the next one without a hash lookup).
    let prev = -1;
    // Operands of the branch inside block `prev` whose taken side ended it (-1: it ran to its end).
    let side = -1;
    // Interpret without lookups (1) or not (0): after a first visit (blockTuning.secondVisit) the
    // code straight after it is new too, and a lookup per instruction that misses made code that
    // runs once 2.2× slower than the interpreter tier (cold-code); one per 64 instructions still
    // cost it ~1.1× (a hash and a seen-table write, cache misses both). Only a branch (or the
    // end of this call) ends the run: a loop's back edge is a branch, so code that repeats is
    // still looked up at its head.
    let fresh = 0;
    const code = this.code;
    try {
      while (n > 0) {
        let b = -1;
        if (fresh === 0 && cache !== null) {
          const ip = this.ip | 0;
          if (side >= 0) {
            // The taken branch inside the block that ran last keeps its own successor.
            if (arena[side + LINK_EPOCH] === code.epoch) b = arena[side + LINK_BLK];
          } else if (prev >= 0 && arena[prev + H_EPOCH] === code.epoch) {
            // One load site serves either link: a second link first followed after V8 optimized
            // this loop would otherwise deoptimize it (see fastLoop).
            let o = H_BLK0;
            if (arena[prev + H_IP0] !== ip) o = arena[prev + H_IP1] === ip ? H_BLK1 : -1;
            if (o >= 0) b = arena[prev + o];
          }
          if (b < 0) {
            const flushes = cache.flushes;
            const visits = cache.firstVisits;
            b = cache.lookup(this);
            if (cache.firstVisits !== visits) fresh = 1;
            else if (b >= 0 && cache.flushes === flushes) {
              if (side >= 0) {
                arena[side + LINK_EPOCH] = code.epoch;
                arena[side + LINK_BLK] = b;
              } else if (prev >= 0) cache.link(prev, ip, b);
            }
          }
        }
        prev = -1;
        side = -1;
        if (b >= 0 && arena[b + H_COUNT] <= n) {
          const j = arena[b + H_JIT];
          if (j < -1) {
            // Second tier, regions: the block's page region (jit-region.ts) runs on through the
            // page's blocks while the budget lasts and keeps the instruction count itself.
            k = -2;
            const done = this.instructions;
            const f = compiled[-2 - j];
            const x = f(this, arena, n);
            k = -1;
            if (x === REGION_DONE) {
              n -= this.instructions - done;
              prev = b; // a link is keyed by IP: any block may hold it
              continue;
            }
            if (x === REGION_ATTENTION || regionExit(this, f, x)) return LOOP_DONE;
            // A side exit: EIP/IP on an access off the inline fast path, the instructions before
            // it counted (regionExit); interpret it.
            n -= this.instructions - done;
            execute(this);
            n--;
            this.instructions++;
            if (this.attention) return LOOP_DONE;
            continue;
          }
          if (j >= 0) {
            // Second tier: the block as one function (jit.ts) — the same calls as below.
            k = -2;
            const x = compiled[j](this, arena, b);
            k = -1;
            if (x === 0) {
              n -= arena[b + H_COUNT];
              prev = b;
              continue;
            }
            if (x === 1) return LOOP_DONE;
            if (x === 2) {
              // A taken branch inside the block (jit.ts), as below.
              side = this.sideRec;
              this.sideExit = false;
              n -= arena[b + H_COUNT];
              prev = b;
              continue;
            }
            // A side exit (jit.ts): the first tier runs the block on from record (x >> 8) - 1.
            this.instructions += x & 0xff;
            k = b + HDR + ((x >> 8) - 1) * REC;
          } else {
            if (jit && --arena[b + H_RUNS] === 0) {
              // Rare: run() decides on compiling it and comes back (see LOOP_JIT).
              loopBlock = b;
              return LOOP_JIT;
            }
            k = b + HDR;
          }
          // A pre-decoded block: the same instructions, boundaries and checks as the loop below.
          // EIP/IP are stored only where someone can look: before the last instruction (a branch
          // or `interpret` uses them), at an early exit, and in the fault handler below.
          const len = arena[b + H_COUNT]; // instructions (fused pairs count two)
          const last = b + HDR + (arena[b + H_RECORDS] - 1) * REC;
          let early = false;
          for (; k < last; k += REC) {
            // MOV r,r by name: V8 inlines it, and the host CPU predicts this branch better than
            // the one indirect call over ~130 targets. Memory handlers inlined here made the
            // cold boot slower (a larger fastLoop to recompile; PERF.md).
            const h = arena[k];
            const o = k + 3; // one site for both calls' operand offset (no late deoptimization)
            if (h === I_MOVRR) movRR(this, arena, o);
            else HANDLERS[h](this, arena, o);
            this.instructions++;
            if (this.attention) {
              early = true;
              break;
            }
          }
          // Record k's EIP and next IP: after it (an early exit) or before it (the last record).
          // One store site for both, so an early exit first seen late in a run finds the
          // operations it needs already profiled (no deoptimization; see LOOP_DONE).
          this.eip = arenaU[k + 1];
          const taken = this.sideExit; // loaded on the shared path: see CpuBase.sideExit
          if (early && taken) {
            // A conditional branch inside the block was taken (block-fused.ts `side`): it set
            // c.ip to its target; go on there, through the link kept in its record. `n` may drop
            // by more than ran: that only ends this call sooner (run() checks the budget exactly).
            side = this.sideRec;
            this.sideExit = false;
            this.attention = false;
            k = -1;
            n -= len;
            prev = b;
            continue;
          }
          this.ip = arenaU[k + 2];
          if (early) return LOOP_DONE;
          HANDLERS[arena[k]](this, arena, k + 3);
          k = -1;
          this.instructions++;
          if (this.attention) return LOOP_DONE;
          n -= len;
          prev = b;
          continue;
        }
        const ip0 = this.ip;
        this.eip = ip0;
        execute(this);
        n--;
        this.instructions++;
        if (this.attention) return LOOP_DONE;
        if (fresh !== 0) {
          // Fell through (the next IP 1–15 bytes on)? Anything else was a branch: look it up.
          const d = (this.ip - ip0) | 0;
          if (d <= 0 || d > 15) fresh = 0;
        }
      }
    } catch (e) {
      // Nothing here may need type feedback: V8 optimizes this loop long before the first fault,
      // and an operation never run before (a compare, a property load, a call) deoptimized it on
      // every later fault without replacing the code, so each fault dropped the rest of its slice
      // into the bytecode interpreter (96 times in the BusyBox loop; 4 in a cold Linux boot).
      // Module variables and a constant return need none; run() handles the fault.
      loopThrown = e;
      loopBlock = k;
      return LOOP_FAULT;
    }
    return LOOP_DONE;
  }

  /** fastLoop came back with LOOP_FAULT or LOOP_JIT (not LOOP_DONE). */
  private loopExit(r: number): void {
    if (r === LOOP_JIT && jitTuning.traces && !blockTuning.followJcc) {
      this.traces.due(this, loopBlock); // a trace from this block, or another countdown
      return;
    }
    if (r === LOOP_JIT && jitTuning.regions && !blockTuning.followJcc) {
      // Regions: the block's page region, a new one, or another countdown (jit-region.ts).
      // Not with blocks that go on past a Jcc: a region does not resume at a taken side exit.
      this.regions.due(this, loopBlock);
      return;
    }
    if (r === LOOP_JIT) {
      const b = loopBlock;
      const arena = this.blocks.arena;
      if (this.blocks.jitDue(b, this.instructions)) {
        const f = compileBlock(arena, b);
        if (f !== null) this.blocks.setCompiled(b, f);
        // No code generation here (a CSP without 'unsafe-eval'): the block stays in the first
        // tier for good; a countdown left at 0 would send fastLoop back here before every run.
        else arena[b + H_RUNS] = 0x3fffffff;
      }
      // The block itself runs when run() enters fastLoop again, which counts this run once more
      // unless it is compiled now: give that count back.
      if (arena[b + H_JIT] < 0) arena[b + H_RUNS]++;
      return;
    }
    const e = loopThrown;
    loopThrown = undefined;
    if (e !== FAULT) throw e;
    this.blockFaulted(loopBlock);
  }

  /** A fault in fastLoop at arena record `k` (-1: the interpreter's step, -2: compiled code). */
  private blockFaulted(k: number): void {
    if (k === -2) k = this.faultK;
    const arena = this.blocks.arena;
    if (k >= 0 && arena[k] !== 0) {
      // A pre-decoded instruction faulted: its EIP is the fault EIP (nothing of it retired).
      // (Not for `interpret`, handler 0: execute() left EIP/IP exactly as the interpreter does,
      // IP after the bytes it decoded — the length a monitor sees.)
      this.eip = arena[k + 1] >>> 0;
      this.ip = arena[k + 2] >>> 0;
    }
    this.faulted();
  }

  private faulted(): void {
    this.shadow = false;
    this.deliverFault();
    this.eventSteps++;
    this.eventDelivered = true;
    this.attention = true;
  }

  /** One instruction with single-step, debug-register and shadow handling. */
  private stepSlow(): void {
    const tf = (this.flags & TF) !== 0;
    this.shadow = false;
    try {
      this.eip = this.ip;
      if (this.dr[7] & 0xff && (this.flags & RF) === 0) this.checkExecBreakpoints();
      this.dataBpHits = 0;
      this.keepRf = false;
      execute(this);
      this.instructions++;
      if (!this.keepRf) this.flags &= ~RF;
      // MOV SS/POP SS/STI: interrupts and debug traps wait until after the next instruction.
      const shadowed = this.shadow;
      const hits = this.dataBpHits;
      this.dataBpHits = 0;
      if (((tf && !shadowed) || hits) && !this.halted) {
        // Debug trap after the instruction (SDM §17.3.1.2/§17.3.1.4): DR6.Bn / BS, EIP = next.
        if (tf && !shadowed) this.dr[6] |= 0x4000;
        this.dr[6] |= hits;
        this.event.instrEip = this.eip;
        this.event.length = (this.ip - this.eip) >>> 0;
        this.eip = this.ip;
        this.deliver(DB, EventKind.Exception, -1, this.ip);
        this.eventDelivered = true;
      }
    } catch (e) {
      if (e !== FAULT) throw e;
      this.faulted();
    }
    this.attention = true;
  }

  /** DR0–DR3 instruction breakpoints (R/W = 00, length 1): #DB fault before execution. */
  private checkExecBreakpoints(): void {
    const dr7 = this.dr[7];
    const lin = (this.csBase + this.ip) | 0;
    let hit = 0;
    for (let i = 0; i < 4; i++) {
      if ((dr7 >> (i * 2)) & 3 && ((dr7 >>> (16 + i * 4)) & 3) === 0 && this.dr[i] === lin) hit |= 1 << i;
    }
    if (hit) {
      this.dr[6] |= hit;
      this.raise(DB);
    }
  }

  getState(): CpuState {
    const segs: SegState[] = [];
    for (let s = 0; s < 8; s++)
      segs.push({
        sel: this.segSel[s],
        base: this.segBase[s] >>> 0,
        limit: this.segLim[s],
        ar: this.segAr[s],
      });
    return {
      regs: Array.from(this.regs, (v) => v >>> 0),
      eip: this.ip >>> 0,
      eflags: this.getEflags() >>> 0,
      segs,
      cpl: this.cpl,
      cr0: this.cr0 >>> 0,
      cr2: this.cr2 >>> 0,
      cr3: this.cr3 >>> 0,
      cr4: this.cr4 >>> 0,
      dr: Array.from(this.dr, (v) => v >>> 0),
      gdtr: { base: this.gdtBase >>> 0, limit: this.gdtLimit },
      idtr: { base: this.idtBase >>> 0, limit: this.idtLimit },
      msr: {
        sysenterCs: this.sysenterCs,
        sysenterEsp: this.sysenterEsp >>> 0,
        sysenterEip: this.sysenterEip >>> 0,
        tscOffset: this.tscOffset,
      },
      halted: this.halted,
      a20: this.a20Mask === -1,
      instructions: this.instructions,
      shadow: this.shadow,
      ...(this.fpu !== null ? { fpu: this.fpu.save() } : {}),
      vmx: saveVmx(this),
    };
  }

  setState(s: CpuState): void {
    for (let i = 0; i < 8; i++) this.regs[i] = s.regs[i];
    this.ip = s.eip >>> 0;
    this.eip = this.ip;
    this.lzMask = 0;
    this.flags = (s.eflags | 2) & 0x3f7fd7;
    this.cr0 = s.cr0 | 0;
    this.cr2 = s.cr2 | 0;
    this.cr3 = s.cr3 | 0;
    this.cr4 = s.cr4 | 0;
    for (let i = 0; i < 8; i++) this.dr[i] = s.dr[i];
    this.gdtBase = s.gdtr.base | 0;
    this.gdtLimit = s.gdtr.limit;
    this.idtBase = s.idtr.base | 0;
    this.idtLimit = s.idtr.limit;
    this.sysenterCs = s.msr.sysenterCs;
    this.sysenterEsp = s.msr.sysenterEsp | 0;
    this.sysenterEip = s.msr.sysenterEip | 0;
    this.tscOffset = s.msr.tscOffset;
    this.cpl = -1;
    this.setCpl(s.cpl);
    for (let i = 0; i < 8; i++) this.setSeg(i, s.segs[i].sel, s.segs[i].base, s.segs[i].limit, s.segs[i].ar);
    this.halted = s.halted;
    this.a20Mask = s.a20 ? -1 : 0xffefffff | 0;
    this.instructions = s.instructions;
    this.shadow = s.shadow;
    if (s.fpu !== undefined && this.fpu !== null) this.fpu.restore(s.fpu);
    if (s.vmx !== undefined) restoreVmx(this, s.vmx);
    this.refreshAc();
    this.shutdown = false;
    this.flushTlb(false);
    this.attention = true;
    this.checkIntr = true;
  }
}
