/**
 * Adversarial isolation (issue 6: "No VM can read or write another VM's memory or devices, or the
 * VMM's"). A guest points its GDTR/IDTR, string port I/O and page tables at addresses outside its
 * RAM — at guest-physical addresses that equal the host addresses of the VMM's frames and of the
 * other VMs' slices — and writes everywhere it can name. Host memory outside its slice must be
 * unchanged byte for byte (apart from the frames the VMM itself owns), the physical PIC keeps the
 * VMM's programming, and every VM's memory ends exactly as when it runs alone.
 */
import { describe, expect, it } from 'vitest';
import { SLICES_BASE, VMM_BASE } from '../vmm/memory-map.ts';
import { TrapKind } from '../vmm/trap-log.ts';
import { createTrapAndEmulateRunner } from './runner.ts';
import { bootImage, nasmBoot, runNative } from './test-guests.ts';

const MEM = 4;
const MIB = 1024 * 1024;

const SOURCE = `
start:
    mov esp, 0x90000
    lgdt [gdtr]
    jmp 0x08:pm
pm:
    mov ax, 0x10
    mov ds, ax
    mov es, ax
    mov ss, ax
    ; 1. descriptor tables outside its RAM: the host's VMM area and another VM's slice
    lgdt [bad_gdtr]
    lidt [bad_idtr]
    lgdt [gdtr]
    lidt [idtr]
    ; 2. port I/O: the physical PIC and PIT ports, string I/O into memory that is not its RAM
    mov al, 0xff
    out 0x21, al
    out 0xa1, al
    mov al, 0x30
    out 0x43, al
    mov al, 0
    out 0x40, al
    out 0x40, al
    cld
    mov edi, 0x00F00000           ; guest-physical 15 MiB (host: the VMM's frames)
    mov dx, 0x3F8
    mov ecx, 4096
    rep insb
    mov edi, 0x01400000           ; guest-physical 20 MiB (host: VM 1's slice)
    mov ecx, 1024
    mov eax, 0x0BADF00D
    rep stosd                     ; paging off: plain stores to a non-RAM address
    mov esi, 0x01000000
    mov dx, 0x80
    mov ecx, 256
    rep outsb
    ; 3. page tables naming every 4 KiB frame of 4-24 MiB and one frame per 4 MiB of 4 GiB
    mov edi, 0x201000
    mov eax, 3
.id:
    stosd
    add eax, 0x1000
    cmp edi, 0x202000
    jb .id
    mov dword [0x200000], 0x201003
    mov dword [0x200004], 0x202003
    mov eax, 0x200000
    mov cr3, eax
    mov eax, cr0
    or eax, 0x80000000
    mov cr0, eax
    xor ebp, ebp                  ; reads that were neither all ones nor our own writes
    mov ebx, 0x400000
.low:
    call probe
    add ebx, 0x1000
    cmp ebx, 0x1800000
    jb .low
.high:
    call probe
    add ebx, 0x400000
    jnc .high
    mov [0x80000], ebp
    mov dword [0x80004], 0x600DF00D
    mov al, 0
    out 0xf4, al
    hlt
probe:
    mov eax, ebx
    or eax, 3
    mov [0x202000], eax
    invlpg [0x400000]
    mov eax, [0x400ffc]
    cmp eax, 0xffffffff
    je .ok
    cmp eax, 0xdeadbeef
    je .ok
    inc ebp
.ok:
    mov dword [0x400ffc], 0xdeadbeef
    mov dword [0x400000], 0xdeadbeef
    ret
gdtr:
    dw 0x17
    dd gdt
bad_gdtr:
    dw 0xffff
    dd 0x00100000 + 0x00F00000
bad_idtr:
    dw 0x7ff
    dd 0x01400000
idtr:
    dw 0
    dd 0
align 8
gdt:
    dq 0
    dq 0x00CF9B000000FFFF
    dq 0x00CF93000000FFFF
`;

function run(vms: number) {
  const r = createTrapAndEmulateRunner(
    { vms, memMiB: MEM, noReboot: true },
    nasmBoot('isolation', SOURCE, MEM),
  );
  const ram = r.vmm.pc.memory.ram;
  const before = ram.slice();
  let res = r.run(10_000_000, false);
  for (let i = 0; i < 200 && res.state === 'budget'; i++) res = r.run(10_000_000, false);
  return { r, ram, before, res };
}

function firstDiff(a: Uint8Array, b: Uint8Array, from: number, to: number): number {
  for (let i = from; i < to; i++) if (a[i] !== b[i]) return i;
  return -1;
}

describe('a guest attacking memory outside its slice', () => {
  const one = run(1);
  const two = run(2);

  it('runs to the end, and never reads anything but all ones or its own writes', () => {
    for (const x of [one, two]) {
      expect(x.res.state).toBe('exited');
      for (const vm of x.r.vmm.vms) {
        expect(vm.exitCode).toBe(1);
        const at = vm.map.sliceBase + 0x80000;
        const dv = new DataView(x.ram.buffer, x.ram.byteOffset + at, 8);
        expect(dv.getUint32(4, true)).toBe(0x600df00d);
        expect(dv.getUint32(0, true)).toBe(0); // nothing foreign was ever visible
      }
    }
    expect(two.r.traps.countByKind(TrapKind.WorldSwitch)).toBeGreaterThan(0);
    // ~6,000 frames named through its page tables: a hidden fault to read each, one to write it.
    expect(one.r.traps.countByKind(TrapKind.HiddenPageFault)).toBeGreaterThan(12_000);
  });

  it('leaves host memory outside its slice unchanged, except the frames the VMM owns', () => {
    for (const x of [one, two]) {
      const vmmTop = x.r.vmm.frames.highWater;
      // Below the VMM's area, and the VMM frames never handed out: byte for byte.
      expect(firstDiff(x.before, x.ram, 0, VMM_BASE)).toBe(-1);
      expect(firstDiff(x.before, x.ram, vmmTop, SLICES_BASE)).toBe(-1);
      // The shared "nothing here" page still reads all ones.
      const e = x.r.vmm.emptyPage;
      expect(x.ram.subarray(e, e + 4096).every((b) => b === 0xff)).toBe(true);
      // Every shadow entry maps the VM's own slice, the empty page or its own sink.
      for (const vm of x.r.vmm.vms) {
        const m = vm.map;
        for (const f of vm.shadow.mappedFrames())
          expect(
            (f >= m.sliceBase && f < m.sliceBase + m.memBytes) || f === m.emptyPage || f === m.sinkPage,
          ).toBe(true);
      }
    }
  });

  it('ends with every VM’s memory exactly as when it runs alone', () => {
    const alone = one.ram.subarray(SLICES_BASE, SLICES_BASE + MEM * MIB);
    for (let i = 0; i < 2; i++) {
      const base = SLICES_BASE + i * MEM * MIB;
      const slice = two.ram.subarray(base, base + MEM * MIB);
      expect(firstDiff(alone, slice, 0, MEM * MIB)).toBe(-1);
    }
  });

  it('leaves the physical PIC as the VMM programmed it', () => {
    for (const x of [one, two]) expect(x.r.vmm.pc.io.in8(0x21)).toBe(0xfe);
  });
});

/**
 * The 4 MiB slot where the VMM keeps its shadow GDT/LDT (issue 16): guests/hostile/slot.elf
 * writes and reads there and stores across its edges, under its own page tables. Each VM must see
 * what the bare machine shows (its own #PF, its own memory) and reach nothing outside its slice.
 */
describe('guests touching the VMM’s own slot', () => {
  const SLOT_MEM = 16;
  const boot = bootImage('hostile/slot.elf', SLOT_MEM);
  const r = createTrapAndEmulateRunner({ vms: 4, memMiB: SLOT_MEM, noReboot: true }, boot);
  const ram = r.vmm.pc.memory.ram;
  const before = ram.slice(0, SLICES_BASE);
  let res = r.run(10_000_000, false);
  for (let i = 0; i < 100 && res.state === 'budget'; i++) res = r.run(10_000_000, false);

  it('passes every check in all four VMs, as natively', () => {
    const native = runNative(boot, SLOT_MEM);
    expect(native.out).toMatch(/DONE checks=10 failed=0/);
    expect(res.state).toBe('exited');
    for (const vm of r.vmm.vms) {
      expect(vm.exitCode).toBe(1);
      // It really reached the slot: each touch ran with the guest's own limits and mapping.
      expect(vm.shadow.lends).toBeGreaterThan(0);
      expect(vm.shadow.vmmPde).toBe(1023);
    }
  });

  it('keeps host memory outside the slices intact and every shadow entry inside its own slice', () => {
    expect(firstDiff(before, ram, 0, VMM_BASE)).toBe(-1);
    expect(firstDiff(before, ram, r.vmm.frames.highWater, SLICES_BASE)).toBe(-1);
    for (const vm of r.vmm.vms) {
      const m = vm.map;
      for (const f of vm.shadow.mappedFrames())
        expect(
          (f >= m.sliceBase && f < m.sliceBase + m.memBytes) || f === m.emptyPage || f === m.sinkPage,
        ).toBe(true);
    }
  });
});

/**
 * Reads (and a code fetch) in the VMM's slot (issue 16, item 7): guests/hostile/slot-read.elf
 * reads where the shadow GDT/LDT sit with paging off, with the top 4 MiB unmapped, mapped by a
 * PDE write without a flush, and unmapped again. Natively it is its own oracle; under the VMM
 * (segment truncation, ../vmm/slot-guard.ts) every VM must get the same #PFs, CR2s and bytes.
 */
describe('guests reading the VMM’s own slot', () => {
  const MEM_MIB = 16;
  const boot = bootImage('hostile/slot-read.elf', MEM_MIB);
  const r = createTrapAndEmulateRunner({ vms: 4, memMiB: MEM_MIB, noReboot: true }, boot);
  const out = Array.from({ length: 4 }, () => '');
  let res = r.run(10_000_000, false);
  for (let i = 0; i < 100; i++) {
    for (let v = 0; v < 4; v++) out[v] += Buffer.from(r.takeSerial(v)).toString('latin1');
    if (res.state !== 'budget') break;
    res = r.run(10_000_000, false);
  }

  it('gets its own #PF (error code, CR2, EIP) or its own bytes in all four VMs, as natively', () => {
    const native = runNative(boot, MEM_MIB);
    expect(native.out).toMatch(/DONE checks=26 failed=0/);
    expect(res.state).toBe('exited');
    for (let v = 0; v < 4; v++) {
      expect(out[v]).not.toMatch(/FAIL/);
      expect(out[v]).toMatch(/DONE checks=26 failed=0/);
      const vm = r.vmm.vms[v];
      expect(vm.exitCode).toBe(1);
      expect(vm.shadow.vmmPde).toBe(1023); // the VMM never left the top
      expect(vm.shadow.lends).toBeGreaterThan(10);
    }
  });
});
