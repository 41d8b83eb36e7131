/**
 * The Hosting tab: a live stack diagram of the current arrangement (hardware, host OS, VMM, VMs),
 * the path of the selected trap drawn across it with the run's real counters on each hop, the
 * host OS's own console (Type 2), and the Type 1 vs Type 2 table for the loaded guest.
 * See src/hypervisor/hosting/README.md.
 */
import { useEffect, useState } from 'react';
import { emulator } from '../emulator.ts';
import { useUi } from '../store.ts';
import { useHosting } from './store.ts';
import './hosting.css';

// Trap kinds (src/hypervisor/vmm/trap-kinds.ts).
const K = {
  PortIo: 1,
  WorldSwitch: 6,
  Hypercall: 8,
  VmExit: 9,
  Callout: 12,
  HostWorldSwitch: 17,
  HostSyscall: 18,
  HostInterrupt: 19,
} as const;

/** Hops a selected record travels: ids of the diagram's links. */
type Hop = 'guest-vmm' | 'vmm-dev' | 'switch' | 'syscall' | 'driver-serial' | 'hw-host' | 'hw-vmm';

function pathOf(kind: number | null, type2: boolean): { hops: Hop[]; words: string } {
  if (kind === null) return { hops: [], words: 'Select a record in the trap log to draw its path.' };
  const io = kind === K.PortIo || kind === K.VmExit || kind === K.Callout || kind === K.Hypercall;
  if (kind === K.HostWorldSwitch) {
    return {
      hops: ['switch'],
      words: 'A world switch: the driver saves the whole host CPU state and loads the VMM world (or back).',
    };
  }
  if (kind === K.HostSyscall) {
    return { hops: ['syscall'], words: 'VMApp asks the host kernel (int 0x80) on the guest’s behalf.' };
  }
  if (kind === K.HostInterrupt) {
    return {
      hops: ['hw-vmm', 'switch', 'hw-host'],
      words:
        'A host device interrupted the VMM world: the CPU switches back to the host, whose driver re-raises the vector through the host’s IDT.',
    };
  }
  if (io && type2) {
    return {
      hops: ['guest-vmm', 'switch', 'syscall', 'driver-serial'],
      words:
        'Guest I/O, hosted: guest → VMM → world switch → driver → VMApp → write() → the host’s serial driver → COM2.',
    };
  }
  if (io) {
    return {
      hops: ['guest-vmm', 'vmm-dev'],
      words: 'Guest I/O, bare metal: guest → VMM → its virtual device (the VMM owns the machine).',
    };
  }
  return { hops: ['guest-vmm'], words: 'The guest trapped to the VMM, which handled it in its own world.' };
}

function Link({ id, on, label, count }: { id: Hop; on: Hop[]; label: string; count: string }) {
  const hot = on.includes(id);
  return (
    <div className={`hs-link ${hot ? 'hot' : ''}`} data-testid={`hop-${id}`}>
      <span className="hs-arrow">{hot ? '⇅' : '│'}</span>
      <span className="hs-label">{label}</span>
      <span className="hs-count">{count}</span>
    </div>
  );
}

function useSelectedKind(): number | null {
  const sel = useUi((s) => s.selectedTrap);
  const [kind, setKind] = useState<number | null>(null);
  useEffect(() => {
    if (sel === null) {
      setKind(null);
      return;
    }
    let live = true;
    emulator()
      .trapDetail(sel)
      .then((d) => live && setKind(d ? d.kind : null))
      .catch(() => live && setKind(null));
    return () => {
      live = false;
    };
  }, [sel]);
  return kind;
}

function HostConsole() {
  const text = useHosting((s) => s.console);
  const [line, setLine] = useState('');
  const send = (t: string) => emulator().sendHostSerial(t);
  return (
    <div className="hs-console">
      <div className="hs-sub">Host OS console (physical COM1): its shell answers while the guest runs</div>
      <pre data-testid="host-console">{text.split('\n').slice(-14).join('\n')}</pre>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          send(`${line}\n`);
          setLine('');
        }}
      >
        <input
          data-testid="host-input"
          value={line}
          placeholder="type to the host shell (try ps)"
          onChange={(e) => setLine(e.target.value)}
        />
        <button type="submit" className="btn">
          Send
        </button>
        <button type="button" className="btn" data-testid="host-ps" onClick={() => send('ps\n')}>
          ps
        </button>
      </form>
    </div>
  );
}

function Compare() {
  const [table, setTable] = useState<{ title: string; rows: [string, string, string][] } | null>(null);
  const [busy, setBusy] = useState(false);
  const [err, setErr] = useState('');
  const technique = useUi((s) => s.loaded?.technique);
  return (
    <div className="hs-compare">
      <button
        type="button"
        className="btn"
        data-testid="hosting-compare"
        disabled={busy || technique === 'native'}
        title="Run this guest headless under Type 1 and under Type 2 and compare"
        onClick={() => {
          setBusy(true);
          setErr('');
          emulator()
            .compareHosting()
            .then(setTable)
            .catch((e: Error) => setErr(e.message))
            .finally(() => setBusy(false));
        }}
      >
        {busy ? 'Running both…' : 'Compare Type 1 and Type 2'}
      </button>
      {err ? <div className="muted">{err}</div> : null}
      {table ? (
        <table className="hs-table" data-testid="hosting-table">
          <caption>{table.title}</caption>
          <thead>
            <tr>
              <th />
              <th>Type 1</th>
              <th>Type 2</th>
            </tr>
          </thead>
          <tbody>
            {table.rows.map((r) => (
              <tr key={r[0]}>
                <th>{r[0]}</th>
                <td>{r[1]}</td>
                <td>{r[2]}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
    </div>
  );
}

export function HostingPanel() {
  const loaded = useUi((s) => s.loaded);
  const stats = useUi((s) => s.stats);
  const scenario = useUi((s) => s.scenario);
  const c = useHosting((s) => s.counters);
  const kind = useSelectedKind();
  const type2 = c !== null;
  const technique = loaded?.technique ?? scenario.technique;
  const by = stats?.trapsByKind ?? [];
  const n = (k: number) => by[k] ?? 0;
  const guestTraps = by.reduce((a, v, k) => (k < 17 && k !== K.WorldSwitch ? a + v : a), 0);
  const { hops, words } = pathOf(kind, type2);
  if (technique === 'native') {
    return (
      <div className="hosting-panel" data-testid="hosting-panel">
        <p className="muted">
          Native: the guest owns the PC; there is no hypervisor to host. Choose a VMM technique.
        </p>
      </div>
    );
  }
  return (
    <div className="hosting-panel" data-testid="hosting-panel">
      <div className="hs-title">
        {type2
          ? 'Type 2 (hosted): a host OS owns the PC; the VMM runs through its driver'
          : 'Type 1 (bare metal): the VMM owns the PC and its devices'}
      </div>
      <div className="hs-stack" data-testid="stack-diagram">
        <div className={`hs-layer vm ${hops.includes('guest-vmm') ? 'hot' : ''}`}>
          <b>VM {type2 ? '0' : `0–${Math.max(0, (loaded?.vms ?? 1) - 1)}`}</b> guest kernel
        </div>
        <Link id="guest-vmm" on={hops} label="traps / VM exits / hypercalls" count={String(guestTraps)} />
        <div className={`hs-layer vmm ${type2 && c?.inVmm ? 'live' : ''}`}>
          <b>VMM</b> {technique}
          {type2 ? ' — its own world on the same CPU' : ' — boots first, owns PIC, PIT, UARTs'}
          {!type2 ? <span className="hs-note"> · {n(K.WorldSwitch)} VM↔VM world switches</span> : null}
        </div>
        {type2 && c ? (
          <>
            <Link
              id="switch"
              on={hops}
              label="world switch (host ⇄ VMM)"
              count={`${c.toVmm} in · ${c.toHost} out (${c.outputExits} output, ${c.hostInterrupts} irq, ${c.idleExits} idle)`}
            />
            <div className={`hs-layer host ${c.inVmm ? '' : 'live'}`}>
              <div className="hs-row">
                <span className={`hs-box ${hops.includes('syscall') ? 'hot' : ''}`}>
                  <b>VMApp</b> pid 2 (ring 3)
                </span>
                <span className="hs-box">
                  <b>shell</b> pid 1
                </span>
              </div>
              <Link
                id="syscall"
                on={hops}
                label="host system calls (write, read, vmrun…)"
                count={String(c.hostSyscalls)}
              />
              <div className="hs-row">
                <span className={`hs-box ${hops.includes('switch') ? 'hot' : ''}`}>
                  <b>VMM driver</b> (cross page, gate port 0x700)
                </span>
                <span className={`hs-box ${hops.includes('driver-serial') ? 'hot' : ''}`}>
                  <b>serial drivers</b> COM1, COM2
                </span>
                <span className={`hs-box ${hops.includes('hw-host') ? 'hot' : ''}`}>
                  <b>IDT</b> PIC, PIT
                </span>
              </div>
              <div className="hs-sub">Host OS: minikernel-host, ring 0, booted first</div>
            </div>
            <Link
              id="driver-serial"
              on={hops}
              label="guest console bytes on COM2"
              count={`${c.bytesOut} out · ${c.bytesIn} in`}
            />
            <Link id="hw-vmm" on={hops} label="host interrupts forwarded" count={String(c.hostInterrupts)} />
          </>
        ) : (
          <Link
            id="vmm-dev"
            on={hops}
            label="port I/O to virtual devices"
            count={String(n(K.PortIo) + n(K.VmExit))}
          />
        )}
        <div className={`hs-layer hw ${hops.includes('hw-vmm') || hops.includes('hw-host') ? 'hot' : ''}`}>
          <b>Hardware</b> (emulated PC): CPU · PIC · PIT · COM1{type2 ? ' · COM2' : ''}
        </div>
      </div>
      <p className="hs-words" data-testid="hosting-path">
        {words}
      </p>
      {type2 ? <HostConsole /> : null}
      <Compare />
    </div>
  );
}
