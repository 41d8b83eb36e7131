// Linux hosted (Type 2, issue 18): Debian's Linux 6.1 under hardware assist, its VMM entered
// through minikernel-host's driver; the guest's shell answers on the guest line (COM2 via VMApp)
// while the host's shell answers `ps` on the host console.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { TrapKind } from '../hypervisor/vmm/trap-log.ts';
import { Session } from './session.ts';

const guests = join(import.meta.dirname, '../../guests');
const manifest = JSON.parse(readFileSync(join(guests, 'manifest.json'), 'utf8')) as {
  guests: { id: string; files: Record<string, string>; cmdline?: string }[];
};
const linux = manifest.guests.find((g) => g.id === 'linux');

describe('Linux hosted by minikernel-host', () => {
  it('boots to its shell under hardware-assisted Type 2 and runs a command, the host shell answering beside it', () => {
    if (!linux) throw new Error('no linux in guests/manifest.json');
    const s = new Session({
      guest: {
        kind: 'kernel',
        kernel: new Uint8Array(readFileSync(join(guests, linux.files.kernel))),
        initrd: new Uint8Array(readFileSync(join(guests, linux.files.initrd))),
        cmdline: linux.cmdline,
      },
      technique: 'hardware-assisted',
      vms: 1,
      memMiB: 64,
      noReboot: true,
      hosting: 'type2',
      hostKernel: readFileSync(join(guests, 'minikernel/minikernel-host.elf')),
    });
    const dec = new TextDecoder();
    let guest = '';
    let host = '';
    let typed = false;
    const until = (needle: string, from: number) => {
      for (let i = 0; i < 400 && !guest.includes(needle, from); i++) {
        const st = s.run(2_000_000);
        guest += dec.decode(s.takeSerial(0), { stream: true });
        host += dec.decode(s.takeHostSerial());
        if (!typed && host.includes('host$ ') && guest.includes('Linux version')) {
          s.sendHostSerial(new TextEncoder().encode('ps\n'));
          typed = true;
        }
        expect(st.state, guest).toBe('running');
      }
      expect(guest.slice(from), guest).toContain(needle);
    };
    until('guest# ', 0);
    const at = guest.length;
    s.sendSerial(0, new TextEncoder().encode('uname -m\n'));
    until('guest# ', at);
    expect(guest.slice(at).replace(/\r/g, '')).toMatch(/\ni586\n/);
    expect(host).toMatch(/\n\s+2 vmapp\s/);
    expect(s.traps.countByKind(TrapKind.HostInterrupt)).toBeGreaterThan(0);
    expect(s.traps.countByKind(TrapKind.VmExit)).toBeGreaterThan(0);
    const c = s.hostingCounters();
    expect(c?.bytesIn).toBe('uname -m\n'.length);
  });
});
