/**
 * The hypercalls (Xen x86_32 numbers and semantics, Xen's public headers xen.h and
 * arch-x86/xen-x86_32.h): each reads its arguments from EBX…EDI, validates everything the guest hands over, returns
 * 0 / a value or −errno in EAX, and is logged as one trap-log record (kind Hypercall) with three
 * decoded arguments, the result and its modelled cost. A refused request changes nothing.
 */
import { TrapAction } from '../vmm/trap-log.ts';
import type { Vm } from '../vmm/vm.ts';
import {
  CONSOLEIO,
  E,
  EVTCHNOP,
  FIRST_RESERVED_GDT_BYTE,
  GUEST_GDT_FRAMES,
  HC,
  HYPERVISOR_VIRT_START,
  MMUEXT,
  SCHEDOP,
  SH,
  SHUTDOWN,
  TI_DPL_MASK,
  TI_MASK_EVENTS,
  UVMF_FLUSHTYPE_MASK,
  UVMF_INVLPG,
  UVMF_TLB_FLUSH,
  VIRQ,
} from './abi.ts';
import { DomainCrash, type PvDomain } from './domain.ts';
import type { Paravirtual } from './paravirtual.ts';

const DOMID_SELF = 0x7ff0;
const IF = 0x200;
const EAX = 0;
const ESP = 4;
const CS = 1;
const SS = 2;

interface Outcome {
  result: number;
  decoded: [number, number, number];
  cost: number;
  action?: number;
  /** iret: EAX was restored from the frame, do not overwrite it with the result. */
  keepEax?: boolean;
}

export class Hypercalls {
  /** Why the last call was refused (tests, the UI). */
  lastRefusal = '';

  constructor(private readonly hv: Paravirtual) {}

  /** Perform hypercall `nr` (from INT 0x82, or inside a multicall when `batched`). Returns the result. */
  call(vm: Vm, d: PvDomain, nr: number, a: number[], batched: boolean, eip: number): number {
    const pt = this.hv.paging[vm.index];
    pt.validated = 0;
    pt.why = '';
    let o: Outcome;
    try {
      o = this.dispatch(vm, d, nr, a, batched, eip);
    } catch (e) {
      if (!(e instanceof DomainCrash)) throw e;
      this.hv.logHypercall(
        vm,
        nr,
        [a[0], a[1], a[2]],
        -E.INVAL,
        this.hv.cost.hypercall,
        eip,
        TrapAction.Stopped,
      );
      throw e;
    }
    if (o.result < 0) this.lastRefusal = pt.why || this.lastRefusal;
    const base = batched ? this.hv.cost.batched : this.hv.cost.hypercall;
    const cost = base + o.cost + Math.round((pt.validated * this.hv.cost.validateTable) / 1024);
    if (nr < d.hypercalls.length) d.hypercalls[nr]++;
    this.hv.logHypercall(vm, nr, o.decoded, o.result, cost, eip, o.action ?? TrapAction.Emulated);
    if (!o.keepEax && !batched) this.hv.cpu.regs[EAX] = o.result | 0;
    return o.result | 0;
  }

  private refuse(code: number, why: string, decoded: [number, number, number]): Outcome {
    this.lastRefusal = why;
    return { result: -code, decoded, cost: 0 };
  }

  private dispatch(vm: Vm, d: PvDomain, nr: number, a: number[], batched: boolean, eip: number): Outcome {
    switch (nr) {
      case HC.set_trap_table:
        return this.setTrapTable(vm, d, a[0]);
      case HC.mmu_update:
        return this.mmuUpdate(vm, d, a[0], a[1], a[2], a[3]);
      case HC.set_gdt:
        return this.setGdt(d, a[0], a[1]);
      case HC.stack_switch:
        return this.stackSwitch(d, a[0], a[1]);
      case HC.set_callbacks:
        return this.setCallbacks(d, a[0], a[1], a[2], a[3]);
      case HC.fpu_taskswitch: {
        const cpu = this.hv.cpu;
        cpu.cr0 = a[0] ? cpu.cr0 | 8 : cpu.cr0 & ~8;
        return { result: 0, decoded: [a[0], 0, 0], cost: 20 };
      }
      case HC.multicall:
        if (batched) return this.refuse(E.INVAL, 'a multicall inside a multicall', [a[0], a[1], 0]);
        return this.multicall(vm, d, a[0], a[1], eip);
      case HC.update_va_mapping:
        return this.updateVaMapping(vm, d, a[0], a[1], a[2], a[3]);
      case HC.set_timer_op: {
        const ns = a[1] * 4294967296 + a[0];
        this.hv.setTimer(vm, ns);
        return { result: 0, decoded: [a[0], a[1], 0], cost: 40 };
      }
      case HC.xen_version:
        return a[0] === 0
          ? { result: 0x30000, decoded: [0, 0, 0], cost: 0 }
          : this.refuse(E.NOSYS, 'xen_version: only XENVER_version', [a[0], 0, 0]);
      case HC.console_io:
        return this.consoleIo(vm, d, a[0], a[1], a[2]);
      case HC.iret:
        if (batched) return this.refuse(E.INVAL, 'iret inside a multicall', [0, 0, 0]);
        return this.iret(d);
      case HC.mmuext_op:
        return this.mmuextOp(vm, d, a[0], a[1], a[2], a[3]);
      case HC.sched_op:
        return this.schedOp(vm, d, a[0], a[1]);
      case HC.event_channel_op:
        return this.eventChannelOp(d, a[0], a[1]);
      default:
        return this.refuse(E.NOSYS, `no hypercall number ${nr}`, [a[0], a[1], a[2]]);
    }
  }

  // ---- the virtual IDT, GDT, stacks, callbacks ----

  private setTrapTable(vm: Vm, d: PvDomain, ptr: number): Outcome {
    if (ptr === 0) {
      d.traps.fill(null);
      this.setDirect(vm, d, null);
      return { result: 0, decoded: [0, 0, 0], cost: 0 };
    }
    let n = 0;
    for (; n < 256; n++) {
      const lo = d.read(ptr + n * 8);
      const address = d.read(ptr + n * 8 + 4);
      if (lo === null || address === null)
        return this.refuse(E.FAULT, 'the trap table is not readable', [ptr, n, 0]);
      if (address === 0) break;
      const vector = lo & 0xff;
      const flags = (lo >>> 8) & 0xff;
      const cs = lo >>> 16;
      // Ring 0 is the hypervisor's: a guest handler may not run there (Barham et al. §3.3.3).
      if ((cs & 3) === 0)
        return this.refuse(E.PERM, `vector ${vector}: a ring-0 handler (selector 0x${cs.toString(16)})`, [
          ptr,
          n,
          vector,
        ]);
      const desc = d.descriptor(cs);
      if (!desc || (desc.ar & 8) === 0)
        return this.refuse(E.INVAL, `vector ${vector}: selector 0x${cs.toString(16)} is no code segment`, [
          ptr,
          n,
          vector,
        ]);
      d.traps[vector] = { flags, cs, address };
      if (vector === 0x80) this.setDirect(vm, d, d.traps[vector]);
    }
    return {
      result: 0,
      decoded: [ptr, n, this.hv.direct[vm.index] ? 0x80 : 0],
      cost: n * this.hv.cost.perDescriptor,
    };
  }

  /**
   * INT 0x80 as a direct trap (Xen x86_32's int80_direct_trap): a DPL-3 trap gate in the real IDT
   * to the guest's ring-1 handler, so system calls go from ring 3 to the guest kernel without the
   * hypervisor. Only for an entry that lets ring 3 in and does not need events masked on entry.
   */
  private setDirect(vm: Vm, d: PvDomain, t: { flags: number; cs: number; address: number } | null): void {
    const ok = t !== null && (t.flags & TI_DPL_MASK) === 3 && (t.flags & TI_MASK_EVENTS) === 0;
    const at = d.idt + 0x80 * 8;
    if (ok && t) {
      d.w32(at, ((t.cs << 16) | (t.address & 0xffff)) >>> 0);
      d.w32(at + 4, ((t.address & 0xffff0000) | 0x8000 | (3 << 13) | (0xf << 8)) >>> 0);
    } else {
      d.w32(at, 0);
      d.w32(at + 4, 0);
    }
    this.hv.direct[vm.index] = ok;
  }

  private setGdt(d: PvDomain, list: number, entries: number): Outcome {
    const dec: [number, number, number] = [list, entries, 0];
    if (entries > GUEST_GDT_FRAMES * 512 || entries * 8 > FIRST_RESERVED_GDT_BYTE)
      return this.refuse(E.INVAL, `${entries} GDT entries: the guest owns at most 14 pages`, dec);
    const nframes = Math.ceil(entries / 512);
    const pages: Uint8Array[] = [];
    for (let i = 0; i < nframes; i++) {
      const mfn = d.read(list + i * 4);
      if (mfn === null) return this.refuse(E.FAULT, 'the frame list is not readable', dec);
      dec[2] = mfn;
      const pfn = d.ownPfn(mfn);
      if (pfn < 0) return this.refuse(E.INVAL, `GDT frame 0x${mfn.toString(16)} is not this domain's`, dec);
      const page = d.ram.slice(d.hostOf(pfn * 4096), d.hostOf(pfn * 4096) + 4096);
      const n = Math.min(512, entries - i * 512);
      page.fill(0, n * 8);
      for (let k = 0; k < n; k++) {
        const hi =
          (page[k * 8 + 4] | (page[k * 8 + 5] << 8) | (page[k * 8 + 6] << 16) | (page[k * 8 + 7] << 24)) >>>
          0;
        if ((hi & 0x8000) === 0) continue; // not present: harmless
        if ((hi & 0x1000) === 0)
          return this.refuse(
            E.INVAL,
            `GDT entry ${i * 512 + k}: system descriptors (gates, TSS, LDT) are the hypervisor's`,
            dec,
          );
        if (((hi >>> 13) & 3) === 0)
          return this.refuse(
            E.INVAL,
            `GDT entry ${i * 512 + k}: a DPL-0 segment (ring 0 is the hypervisor's)`,
            dec,
          );
        page[k * 8 + 5] |= 1; // accessed: the CPU never needs to write our read-only copy
      }
      pages.push(page);
    }
    // Validated: our copy becomes the live GDT (Xen maps the frames instead; a later change needs set_gdt again).
    for (let i = 0; i < GUEST_GDT_FRAMES; i++) {
      if (i < nframes) {
        const f = d.gdtFrame(i);
        d.ram.set(pages[i], f);
      } else if (d.gdtCopies[i]) d.ram.fill(0, d.gdtCopies[i], d.gdtCopies[i] + 4096);
    }
    this.hv.cpu.flushTlb(false);
    return { result: 0, decoded: dec, cost: entries * this.hv.cost.perDescriptor };
  }

  private stackSwitch(d: PvDomain, ss: number, esp: number): Outcome {
    const dec: [number, number, number] = [ss, esp, 0];
    // The ring-1 stack the CPU and we switch to from ring 3: RPL 1 and a DPL-1 data segment.
    if ((ss & 3) !== 1)
      return this.refuse(E.PERM, `stack selector 0x${ss.toString(16)} is not a ring-1 selector`, dec);
    const sd = d.descriptor(ss);
    if (!sd || sd.ar & 8 || (sd.ar & 2) === 0 || sd.dpl !== (ss & 3))
      return this.refuse(
        E.INVAL,
        `stack selector 0x${ss.toString(16)} is no writable data segment of its ring`,
        dec,
      );
    d.kernelSs = ss;
    d.kernelSp = esp >>> 0;
    d.w32(d.tss + 12, esp); // TSS.esp1/ss1: the real CPU's stack for ring 3 → ring 1 (direct traps)
    d.w32(d.tss + 16, ss);
    return { result: 0, decoded: dec, cost: 20 };
  }

  private setCallbacks(d: PvDomain, evCs: number, evEip: number, fsCs: number, fsEip: number): Outcome {
    const dec: [number, number, number] = [evCs, evEip, fsEip];
    if ((evCs & 3) === 0 || (fsCs & 3) === 0) return this.refuse(E.PERM, 'a ring-0 callback', dec);
    d.eventCallback = { cs: evCs, eip: evEip };
    d.failsafeCallback = { cs: fsCs, eip: fsEip };
    return { result: 0, decoded: dec, cost: 20 };
  }

  // ---- memory: direct paging ----

  private mmuUpdate(vm: Vm, d: PvDomain, reqs: number, count: number, done: number, dom: number): Outcome {
    const pt = this.hv.paging[vm.index];
    const dec: [number, number, number] = [count, 0, 0];
    if (dom !== DOMID_SELF)
      return this.refuse(E.PERM, `mmu_update for domain 0x${dom.toString(16)}: only DOMID_SELF`, dec);
    if (count > 4096) return this.refuse(E.INVAL, `${count} requests`, dec);
    let i = 0;
    let result = 0;
    for (; i < count; i++) {
      const ptr = d.read(reqs + i * 16);
      const ptrHi = d.read(reqs + i * 16 + 4);
      const val = d.read(reqs + i * 16 + 8);
      const valHi = d.read(reqs + i * 16 + 12);
      if (ptr === null || ptrHi === null || val === null || valHi === null) {
        result = -E.FAULT;
        pt.why = 'the request list is not readable';
        break;
      }
      if (i === 0) {
        dec[1] = ptr;
        dec[2] = val;
      }
      if (ptrHi || valHi) {
        result = -E.INVAL;
        pt.why = 'machine addresses above 4 GiB';
        break;
      }
      if ((ptr & 3) !== 0) {
        result = -E.NOSYS;
        pt.why = `mmu_update command ${ptr & 3} is not supported`;
        break;
      }
      result = pt.update(ptr, val);
      if (result) break;
    }
    if (done && !d.write(done, i)) result ||= -E.FAULT;
    return { result, decoded: dec, cost: i * this.hv.cost.perEntry };
  }

  private updateVaMapping(vm: Vm, _d: PvDomain, va: number, lo: number, hi: number, flags: number): Outcome {
    const pt = this.hv.paging[vm.index];
    const dec: [number, number, number] = [va, lo, flags];
    if (hi) return this.refuse(E.INVAL, 'a PTE above 4 GiB', dec);
    if (va >= HYPERVISOR_VIRT_START) return this.refuse(E.INVAL, 'the hypervisor owns that address', dec);
    const ptr = pt.l1eFor(va);
    if (ptr < 0) return this.refuse(E.INVAL, `no page table maps 0x${va.toString(16)}`, dec);
    const r = pt.update(ptr, lo);
    if (r) return { result: r, decoded: dec, cost: 0 };
    const cpu = this.hv.cpu;
    const f = flags & UVMF_FLUSHTYPE_MASK;
    if (f === UVMF_TLB_FLUSH) cpu.flushTlb(false);
    else if (f === UVMF_INVLPG) cpu.invlpg(va);
    return { result: 0, decoded: dec, cost: this.hv.cost.perEntry + (f ? this.hv.cost.tlb : 0) };
  }

  private mmuextOp(vm: Vm, d: PvDomain, ops: number, count: number, done: number, dom: number): Outcome {
    const pt = this.hv.paging[vm.index];
    const cpu = this.hv.cpu;
    const dec: [number, number, number] = [count, 0, 0];
    if (dom !== DOMID_SELF) return this.refuse(E.PERM, 'mmuext_op: only DOMID_SELF', dec);
    let i = 0;
    let result = 0;
    let cost = 0;
    for (; i < count && i < 4096; i++) {
      const cmd = d.read(ops + i * 12);
      const arg1 = d.read(ops + i * 12 + 4);
      if (cmd === null || arg1 === null) {
        result = -E.FAULT;
        break;
      }
      if (i === 0) {
        dec[1] = cmd;
        dec[2] = arg1;
      }
      const pfn = d.ownPfn(arg1);
      const needFrame =
        cmd === MMUEXT.PIN_L1_TABLE ||
        cmd === MMUEXT.PIN_L2_TABLE ||
        cmd === MMUEXT.UNPIN_TABLE ||
        cmd === MMUEXT.NEW_BASEPTR;
      if (needFrame && pfn < 0) {
        result = -E.INVAL;
        pt.why = `machine frame 0x${arg1.toString(16)} is not this domain's`;
        break;
      }
      switch (cmd) {
        case MMUEXT.PIN_L1_TABLE:
          result = pt.pin(pfn, 1);
          break;
        case MMUEXT.PIN_L2_TABLE:
          result = pt.pin(pfn, 2);
          break;
        case MMUEXT.UNPIN_TABLE:
          result = pt.unpin(pfn);
          break;
        case MMUEXT.NEW_BASEPTR:
          result = pt.newBase(pfn);
          cost += this.hv.cost.tlb;
          break;
        case MMUEXT.TLB_FLUSH_LOCAL:
        case MMUEXT.TLB_FLUSH_ALL:
          cpu.flushTlb(false);
          cost += this.hv.cost.tlb;
          break;
        case MMUEXT.INVLPG_LOCAL:
        case MMUEXT.INVLPG_ALL:
          cpu.invlpg(arg1);
          cost += this.hv.cost.tlb;
          break;
        default:
          result = -E.NOSYS;
          pt.why = `mmuext command ${cmd} is not supported`;
      }
      if (result) break;
    }
    if (done && !d.write(done, i)) result ||= -E.FAULT;
    return { result, decoded: dec, cost };
  }

  // ---- batching, console, scheduling, time, events ----

  private multicall(vm: Vm, d: PvDomain, list: number, nr: number, eip: number): Outcome {
    if (nr > 256) return this.refuse(E.INVAL, `${nr} calls in one multicall`, [nr, 0, 0]);
    let first = 0;
    for (let i = 0; i < nr; i++) {
      const e = list + i * 32;
      const words = d.readBytes(e, 32);
      if (!words) return this.refuse(E.FAULT, 'the multicall list is not readable', [nr, first, i]);
      const w = (k: number) =>
        (words[k * 4] | (words[k * 4 + 1] << 8) | (words[k * 4 + 2] << 16) | (words[k * 4 + 3] << 24)) >>> 0;
      if (i === 0) first = w(0);
      const r = this.call(vm, d, w(0), [w(2), w(3), w(4), w(5), w(6)], true, eip);
      if (!d.write(e + 4, r >>> 0))
        return this.refuse(E.FAULT, 'cannot write a multicall result', [nr, first, i]);
      if (vm.state !== 'runnable' && vm.state !== 'blocked') break;
    }
    return { result: 0, decoded: [nr, first, 0], cost: 0 };
  }

  private consoleIo(vm: Vm, d: PvDomain, cmd: number, count: number, buf: number): Outcome {
    const dec: [number, number, number] = [cmd, count, buf];
    if (cmd === CONSOLEIO.write) {
      if (count > 65536) return this.refuse(E.INVAL, `${count} bytes`, dec);
      const bytes = d.readBytes(buf, count);
      if (!bytes) return this.refuse(E.FAULT, 'the buffer is not readable', dec);
      for (const b of bytes) vm.console.push(b);
      return { result: 0, decoded: dec, cost: count * this.hv.cost.perByte };
    }
    if (cmd === CONSOLEIO.read) {
      const n = Math.min(count, d.rx.length);
      for (let i = 0; i < n; i++)
        if (!d.write(buf + i, d.rx[i], 1)) return this.refuse(E.FAULT, 'the buffer is not writable', dec);
      d.rx.splice(0, n);
      return { result: n, decoded: dec, cost: n * this.hv.cost.perByte };
    }
    return this.refuse(E.NOSYS, `console_io command ${cmd}`, dec);
  }

  /**
   * The iret hypercall (Xen x86_32 do_iret): pop EAX, EIP, CS, EFLAGS (and ESP, SS when returning to
   * ring 3) from the guest stack, restoring the upcall mask from EFLAGS.IF in the same step — what a
   * real IRET in ring 1 cannot do, since it ignores IF there.
   */
  private iret(d: PvDomain): Outcome {
    const cpu = this.hv.cpu;
    const sp = (cpu.segBase[SS] + cpu.regs[ESP]) >>> 0;
    const f = [0, 1, 2, 3].map((k) => d.read(sp + k * 4));
    if (f.some((v) => v === null))
      throw new DomainCrash('iret: the frame on the kernel stack is not readable');
    const [eax, eip, csw, eflags] = f as number[];
    const cs = csw & 0xffff;
    const ring = cs & 3;
    if (ring === 0) throw new DomainCrash('iret to ring 0');
    const csD = d.descriptor(cs);
    if (!csD || (csD.ar & 8) === 0 || csD.dpl !== ring)
      throw new DomainCrash(`iret: CS 0x${cs.toString(16)} is no code segment of ring ${ring}`);
    let ss = cpu.segSel[SS];
    let esp = (cpu.regs[ESP] + 16) >>> 0;
    let ssD = null;
    if (ring !== cpu.cpl) {
      const e = d.read(sp + 16);
      const s = d.read(sp + 20);
      if (e === null || s === null) throw new DomainCrash('iret: the outer stack pointer is not readable');
      ss = s & 0xffff;
      esp = e;
      ssD = d.descriptor(ss);
      if (!ssD || (ss & 3) !== ring || ssD.dpl !== ring || ssD.ar & 8)
        throw new DomainCrash(`iret: SS 0x${ss.toString(16)} does not fit ring ${ring}`);
    }
    d.mask = (eflags & IF) === 0;
    cpu.regs[EAX] = eax;
    if (ring !== cpu.cpl) cpu.setCpl(ring);
    cpu.setSeg(CS, cs, csD.base, csD.limit, csD.ar | 1);
    if (ssD) cpu.setSeg(SS, ss, ssD.base, ssD.limit, ssD.ar | 1);
    cpu.regs[ESP] = esp;
    cpu.ip = eip >>> 0;
    cpu.eip = cpu.ip;
    cpu.materialize();
    cpu.flags = ((eflags & 0x240dd5) | 0x202) >>> 0; // status, TF, DF, AC, ID; IOPL 0, the real IF on
    return { result: 0, decoded: [eip, cs, eflags], cost: 350, keepEax: true };
  }

  private schedOp(vm: Vm, d: PvDomain, cmd: number, arg: number): Outcome {
    if (cmd === SCHEDOP.yield) return { result: 0, decoded: [cmd, 0, 0], cost: 0 };
    if (cmd === SCHEDOP.block) {
      // Block enables events (Xen's do_block): return at once if one is already pending.
      d.mask = false;
      if (d.pending) return { result: 0, decoded: [cmd, 0, 0], cost: 0 };
      vm.state = 'blocked';
      return { result: 0, decoded: [cmd, 0, 0], cost: 200, action: TrapAction.Blocked };
    }
    if (cmd === SCHEDOP.shutdown) {
      const reason = d.read(arg);
      if (reason === null) return this.refuse(E.FAULT, 'sched_shutdown not readable', [cmd, arg, 0]);
      d.shutdownReason = reason;
      const names = ['poweroff', 'reboot', 'suspend', 'crash'];
      const why = `the guest shut down (SCHEDOP_shutdown, ${names[reason] ?? `reason ${reason}`})`;
      if (reason === SHUTDOWN.reboot) vm.stop('reset', why);
      else {
        // As isa-debug-exit would report it: poweroff = status 0, anything else = status 2.
        vm.exitCode = reason === SHUTDOWN.poweroff ? 1 : 5;
        vm.stop('exited', why);
      }
      return { result: 0, decoded: [cmd, reason, 0], cost: 0, action: TrapAction.Stopped };
    }
    return this.refuse(E.NOSYS, `sched_op command ${cmd}`, [cmd, arg, 0]);
  }

  private eventChannelOp(d: PvDomain, cmd: number, arg: number): Outcome {
    if (cmd === EVTCHNOP.bind_virq) {
      const virq = d.read(arg);
      const vcpu = d.read(arg + 4);
      if (virq === null || vcpu === null)
        return this.refuse(E.FAULT, 'evtchn_bind_virq not readable', [cmd, 0, 0]);
      if (virq !== VIRQ.timer && virq !== VIRQ.console)
        return this.refuse(E.INVAL, `no VIRQ ${virq}`, [cmd, virq, 0]);
      if (vcpu !== 0) return this.refuse(E.NOENT, `no vcpu ${vcpu}`, [cmd, virq, 0]);
      if (d.virqPort[virq])
        return this.refuse(E.EXIST, `VIRQ ${virq} is bound already`, [cmd, virq, d.virqPort[virq]]);
      let port = 1;
      while (port < d.portVirq.length && d.portVirq[port] >= 0) port++;
      if (!d.write(arg + 8, port))
        return this.refuse(E.FAULT, 'evtchn_bind_virq not writable', [cmd, virq, 0]);
      d.portVirq[port] = virq;
      d.virqPort[virq] = port;
      if (virq === VIRQ.console && d.rx.length) this.hv.raiseVirq(d, virq); // input typed before the bind
      return { result: 0, decoded: [cmd, virq, port], cost: 40 };
    }
    if (cmd === EVTCHNOP.unmask) {
      const port = d.read(arg);
      if (port === null || port >= d.portVirq.length)
        return this.refuse(E.INVAL, 'no such port', [cmd, port ?? 0, 0]);
      const s = d.sharedInfo;
      const w = port >>> 5;
      const bit = 1 << (port & 31);
      d.w32(s + SH.evtchn_mask + w * 4, d.r32(s + SH.evtchn_mask + w * 4) & ~bit);
      if (d.r32(s + SH.evtchn_pending + w * 4) & bit) {
        d.w32(s + SH.pending_sel, d.r32(s + SH.pending_sel) | (1 << w));
        d.w8(s + SH.upcall_pending, 1);
      }
      return { result: 0, decoded: [cmd, port, 0], cost: 20 };
    }
    return this.refuse(E.NOSYS, `event_channel_op command ${cmd}`, [cmd, 0, 0]);
  }
}
