/**
 * A VM exit's qualification in words, for the trap log (Intel SDM Vol.3C §27.2.1: Table 27-3 CR
 * access, 27-5 I/O, 27-7 EPT violation). `value`: the data the VMM moved (I/O, CR) or, for
 * exception exits, the VM-exit interruption information.
 */
const hex = (v: number, d = 8) => `0x${(v >>> 0).toString(16).toUpperCase().padStart(d, '0')}`;
const GPR = ['eax', 'ecx', 'edx', 'ebx', 'esp', 'ebp', 'esi', 'edi'];

export function vmExitSummary(reason: number, q: number, gpa: number, value: number): string {
  switch (reason) {
    case 0: {
      const vec = value & 0xff;
      return `exception vector ${vec} (interruption info ${hex(value)})${vec === 14 ? `, linear address ${hex(q)}` : ''}`;
    }
    case 1:
      return 'a physical interrupt arrived (external-interrupt exiting): the VMM gets the CPU back';
    case 7:
      return 'the guest can take interrupts again (interrupt-window exiting): inject now';
    case 28: {
      const cr = q & 15;
      const type = (q >>> 4) & 3;
      const gpr = GPR[(q >>> 8) & 7];
      if (type === 0) return `MOV to CR${cr} from ${gpr} (value ${hex(value)})`;
      if (type === 1) return `MOV from CR${cr} to ${gpr} (value ${hex(value)})`;
      if (type === 2) return 'CLTS';
      return `LMSW (source ${hex(q >>> 16, 4)})`;
    }
    case 30: {
      const size = (q & 7) + 1;
      const dir = q & 8 ? 'IN' : 'OUT';
      const str = q & 16 ? (q & 8 ? ' INS' : ' OUTS') : '';
      return `${dir}${str} ${size} byte${size > 1 ? 's' : ''} ${q & 8 ? 'from' : 'to'} port ${hex(q >>> 16, 4)}${q & 32 ? ' (REP)' : ''}${q & 64 ? ' (immediate port)' : ' (port in DX)'}, value ${hex(value, size * 2)}`;
    }
    case 48: {
      const acc = q & 4 ? 'instruction fetch' : q & 2 ? 'write' : 'read';
      const perm = `${q & 8 ? 'r' : '-'}${q & 16 ? 'w' : '-'}${q & 32 ? 'x' : '-'}`;
      return `${acc} of guest-physical ${hex(gpa)}; the EPT allowed ${perm}${q & 0x80 ? (q & 0x100 ? '; the access itself' : '; while walking the guest page tables') : ''}`;
    }
    case 49:
      return `EPT misconfiguration at guest-physical ${hex(gpa)}`;
    case 52:
      return 'the VMX-preemption timer reached zero (a virtual device deadline)';
    default:
      return '';
  }
}
