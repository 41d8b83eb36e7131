/** Pure UI logic: the scenario in the URL, and the bit-field decoding the register panel shows. */
import { describe, expect, it } from 'vitest';
import { bitValue, CR0_BITS, describeSegAttrs, EFLAGS_BITS, fmtCount, fmtTimeNs, hex } from './format.ts';
import { scenarioFromSearch, searchFromScenario } from './scenario.ts';
import { exitText, panicLine, statusNoteText, stopCallout } from './status-text.ts';
import type { ScenarioSel } from './store.ts';

const fallback: ScenarioSel = { guestId: 'hello', technique: 'native', vms: 1, machine: 'pc' };

describe('scenario in the URL', () => {
  it('round-trips guest, technique and VM count', () => {
    const s: ScenarioSel = { guestId: 'trapdemo', technique: 'trap-and-emulate', vms: 3, machine: 'pc' };
    expect(searchFromScenario(s)).toBe('?guest=trapdemo&technique=trap-and-emulate&vms=3');
    expect(scenarioFromSearch(searchFromScenario(s), fallback)).toEqual(s);
  });

  it('falls back per field on unknown or out-of-range values', () => {
    expect(scenarioFromSearch('?guest=nope&technique=trap-and-emulate&vms=2', fallback)).toEqual({
      guestId: 'hello',
      technique: 'trap-and-emulate',
      vms: 2,
      machine: 'pc',
    });
    expect(scenarioFromSearch('?guest=linux&technique=magic&vms=0', fallback)).toEqual({
      guestId: 'linux',
      technique: 'native',
      vms: 1,
      machine: 'pc',
    });
    expect(scenarioFromSearch('?technique=paravirtual&vms=1.5', fallback).vms).toBe(1);
    expect(scenarioFromSearch('', fallback)).toEqual(fallback);
  });

  it('carries the machine (native only; the plain PC is left out of the link)', () => {
    const s: ScenarioSel = { guestId: 'linux', technique: 'native', vms: 1, machine: 'pc-fpu' };
    expect(searchFromScenario(s)).toBe('?guest=linux&technique=native&vms=1&machine=pc-fpu');
    expect(scenarioFromSearch(searchFromScenario(s), fallback)).toEqual(s);
    expect(scenarioFromSearch('?guest=linux&technique=native&machine=pc-486', fallback).machine).toBe('pc');
    // A VMM gives each VM the plain PC, whatever the link says.
    expect(
      scenarioFromSearch('?guest=hello&technique=binary-translation&machine=pc-apic', fallback).machine,
    ).toBe('pc');
  });

  it('carries the CPU generation as &cpu= (absent: none chosen; an unknown one is dropped)', () => {
    const s: ScenarioSel = {
      guestId: 'minikernel',
      technique: 'hardware-assisted',
      vms: 1,
      machine: 'pc',
      cpuModel: 'p4',
    };
    expect(searchFromScenario(s)).toBe('?guest=minikernel&technique=hardware-assisted&vms=1&cpu=p4');
    expect(scenarioFromSearch(searchFromScenario(s), fallback)).toEqual(s);
    expect(scenarioFromSearch('?guest=hello&technique=native&cpu=p3', fallback)).not.toHaveProperty(
      'cpuModel',
    );
  });

  it('pins native to one VM (there is no VMM to run several)', () => {
    expect(scenarioFromSearch('?guest=hello&technique=native&vms=4', fallback).vms).toBe(1);
  });
});

describe('timeline bars', () => {
  it('turns cumulative per-kind samples into records per stretch of virtual time', async () => {
    const { barsOf } = await import('./timeline/samples.ts');
    const b = barsOf(
      [
        { t: 0, counts: [0, 5] },
        { t: 100, counts: [3, 5] },
        { t: 250, counts: [3, 9, 2] },
      ],
      3,
    );
    expect(b.t).toEqual([0, 100]);
    expect(b.d).toEqual([
      [3, 0],
      [0, 4],
      [0, 2],
    ]);
  });
});

describe('register decoding', () => {
  it('decodes EFLAGS bit by bit, IOPL as two bits', () => {
    const v = 0x3202 | 1 | (1 << 6); // IOPL=3, IF, CF, ZF
    const on = EFLAGS_BITS.filter((d) => bitValue(v, d)).map((d) => d.name);
    expect(on).toEqual(['CF', 'ZF', 'IF', 'IOPL']);
    expect(bitValue(v, EFLAGS_BITS.find((d) => d.name === 'IOPL')!)).toBe(3);
  });

  it('decodes CR0', () => {
    expect(CR0_BITS.filter((d) => bitValue(0x80000011, d)).map((d) => d.name)).toEqual(['PE', 'ET', 'PG']);
  });

  it('describes descriptor-cache attributes (SDM Vol.3 §3.4.5)', () => {
    expect(describeSegAttrs(0xc09b)).toEqual({
      type: 'code, execute/read',
      dpl: 0,
      present: true,
      big: true,
      gran: true,
    });
    expect(describeSegAttrs(0x00f3)).toMatchObject({ type: 'data, read/write', dpl: 3, big: false });
    expect(describeSegAttrs(0x0089).type).toBe('32-bit TSS (available)');
    expect(describeSegAttrs(0x0082).type).toBe('LDT');
    expect(describeSegAttrs(0x809f).type).toBe('code, execute/read, conforming');
    expect(describeSegAttrs(0x0095).type).toBe('data, read-only, expand-down');
  });

  it('formats numbers for the panels', () => {
    expect(hex(0xdeadbeef)).toBe('DEADBEEF');
    expect(hex(-1, 4)).toBe('FFFFFFFF');
    expect(hex(0x3f8, 4)).toBe('03F8');
    expect(fmtCount(9999)).toBe('9999');
    expect(fmtCount(23_456_789)).toBe('23.5M');
    expect(fmtTimeNs(6500)).toBe('6.5 µs');
    expect(fmtTimeNs(4_071_000_000)).toBe('4.071 s');
  });
});

describe('run position in the URL', () => {
  it('carries the journal and the selected trap after the scenario', async () => {
    const { positionFromSearch } = await import('./scenario.ts');
    const s: ScenarioSel = { guestId: 'trapdemo', technique: 'trap-and-emulate', vms: 1, machine: 'pc' };
    const q = searchFromScenario(s, { at: 't5', sel: 4 });
    expect(q).toBe('?guest=trapdemo&technique=trap-and-emulate&vms=1&at=t5&sel=4');
    expect(positionFromSearch(q)).toEqual({ at: 't5', sel: 4 });
    expect(scenarioFromSearch(q, fallback)).toEqual(s);
    expect(positionFromSearch('?guest=hello&sel=-3')).toEqual({ at: '', sel: null });
  });
});

describe('session messages in page terms', () => {
  it('replaces command-line advice with the page’s own controls', async () => {
    const { uiMessage } = await import('./messages.ts');
    const m = uiMessage(
      'Could not start Hello: native runs one guest; use --technique trap-and-emulate for several VMs',
    );
    expect(m).toBe(
      'Could not start Hello: Native runs exactly one guest on the bare machine. To run several VMs side by side, choose a VMM technique such as Trap-and-emulate in the Technique menu.',
    );
    expect(m).not.toMatch(/--/);
    expect(uiMessage('cannot allocate 512 MiB of guest memory on this host; try a smaller --mem')).toMatch(
      /could not allocate 512 MiB.*fewer VMs/,
    );
    expect(uiMessage("technique 'paravirtual' is not built yet (see issue 6)")).toBe(
      'The paravirtual technique is not built yet; choose another one in the Technique menu.',
    );
    expect(uiMessage('the kernel is empty')).toBe('the kernel is empty');
  });
});

describe('status text for a class', () => {
  it('says what the guest reported through the debug-exit port', () => {
    const ok = {
      state: 'exited' as const,
      exitCode: 1,
      reason: 'guest wrote 0 to isa-debug-exit (exit status 1)',
    };
    expect(exitText(ok)).toBe('the guest reported success (it wrote 0 to port 0xF4)');
    expect(exitText({ ...ok, exitCode: 7 })).toBe('the guest reported failure 3 (it wrote 3 to port 0xF4)');
    expect(exitText({ state: 'running' })).toBeNull();
    const four = {
      state: 'exited' as const,
      exitCode: 1,
      reason:
        'all 4 VMs powered off through isa-debug-exit (VM 0: status 1, VM 1: status 1, VM 2: status 1, VM 3: status 1)',
    };
    expect(exitText(four)).toBe('all 4 VMs reported success (each wrote 0 to port 0xF4)');
    expect(exitText({ ...four, exitCode: 5 })).toBe('a VM reported failure 2 (it wrote 2 to port 0xF4)');
    // Powered off by HLT with interrupts off (status 0): no port involved.
    expect(exitText({ ...four, exitCode: 0, reason: 'all 4 VMs powered off (VM 0: status 0, …)' })).toBe(
      'exit status 0',
    );
    const c = stopCallout(
      { ...ok, running: false, position: '', stopNote: 'The guest has exited with code 1' },
      null,
    );
    expect(c).toMatchObject({ tone: 'ok', title: 'The guest has exited' });
    expect(c?.detail).toMatch(/reported success/);
    // The status bar says the same in words, not "code 1".
    expect(
      statusNoteText({ ...ok, stopNote: 'The guest has exited with code 1 (replayed from the link)' }),
    ).toBe(
      'The guest has exited — the guest reported success (it wrote 0 to port 0xF4) (replayed from the link)',
    );
    expect(statusNoteText({ ...ok, exitCode: 7, stopNote: 'The guest has exited with code 7' })).toBe(
      'The guest has exited — the guest reported failure 3 (it wrote 3 to port 0xF4)',
    );
    expect(statusNoteText({ ...ok, state: 'idle', stopNote: 'Paused' })).toBe('Paused');
  });

  it('finds a kernel panic only once its line is complete', () => {
    expect(panicLine('[ 0.5] Kernel panic - not syncing: Attempted to kill init!')).toBeNull();
    expect(panicLine('[ 0.5] Kernel panic - not syncing: Attempted to kill init!\r\n')).toBe(
      'Attempted to kill init!',
    );
    expect(stopCallout({ state: 'running', running: true, position: '' }, 'oops')?.title).toBe(
      'The guest kernel panicked: oops',
    );
    expect(stopCallout({ state: 'running', running: true, position: '' }, null)).toBeNull();
  });
});
