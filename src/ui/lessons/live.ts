/**
 * The lesson page's window onto the live machine: a LiveState built from the playground's store
 * (fed by the worker), the consoles' transcripts and the selected record's detail (fetched from
 * the worker when the selection changes), and the one-click presets that set the machine up.
 */
import { useEffect, useState } from 'react';
import { useShallow } from 'zustand/react/shallow';
import { kindNames } from '../../hypervisor/vmm/trap-kinds.ts';
import type { TrapDetail } from '../../worker/protocol.ts';
import { emulator } from '../emulator.ts';
import { loadScenario, searchFromScenario } from '../scenario.ts';
import { type ScenarioSel, useUi } from '../store.ts';
import { HOSTING_BUILT } from './content.ts';
import type { Preset } from './parse.ts';
import type { LiveState } from './vocab.ts';

export function presetAvailable(p: Preset): boolean {
  return HOSTING_BUILT.includes(p.hosting);
}

/** The toolbar settings a preset carries (Until kind, skipped kinds, the right-hand tab). */
function applyUiSettings(p: Preset): void {
  const ui = useUi.getState();
  ui.set({
    ...(p.until ? { untilKind: kindNames.indexOf(p.until) } : {}),
    skipKinds: (p.skip ?? []).map((k) => kindNames.indexOf(k)).sort((a, b) => a - b),
    rightTab: (p.tab ?? 'code') as ReturnType<typeof useUi.getState>['rightTab'],
    trapFilter: { vm: null, kinds: [] },
  });
}

/** The playground's scenario for a preset (the plain PC; Type 2 when the preset says so). */
function presetScenario(p: Preset): ScenarioSel {
  return {
    guestId: p.guest,
    technique: p.technique,
    vms: p.vms,
    machine: 'pc',
    ...(p.hosting === 'type2' ? { hosting: 'type2' as const } : {}),
    ...(p.cpu ? { cpuModel: p.cpu } : {}),
    ...(p.paging === 'shadow' ? { paging: 'shadow' as const } : {}),
  };
}

/** Load a preset into the running playground (its position replayed, as a share link's is). */
export function openPreset(p: Preset): void {
  applyUiSettings(p);
  loadScenario(presetScenario(p), p.at ? { at: p.at, sel: null } : undefined);
}

/**
 * Before the playground mounts: a lesson link without a machine gets the lesson's preset in its
 * URL, so the playground loads it (a link that carries one is a share link: it replays that).
 */
export function prepareUrl(p: Preset): void {
  const q = new URLSearchParams(location.search);
  if (q.has('guest')) return;
  applyUiSettings(p);
  const s = new URLSearchParams(
    searchFromScenario(presetScenario(p), p.at ? { at: p.at, sel: null } : undefined),
  );
  for (const [k, v] of q) s.append(k, v);
  history.replaceState(null, '', `${location.pathname}?${s.toString()}${location.hash}`);
}

/** The live state, re-read whenever the store changes (every frame the worker sends). */
export function useLive(): LiveState {
  const s = useUi(
    useShallow((u) => ({
      loading: u.loading,
      loaded: u.loaded,
      active: u.activeScenario,
      status: u.status,
      stats: u.stats,
      regs: u.regs,
      vmInfo: u.vmInfo,
      selectedTrap: u.selectedTrap,
      rightTab: u.rightTab,
      trapVersion: u.trapVersion,
    })),
  );
  const [selected, setSelected] = useState<TrapDetail | null>(null);
  const sel = s.selectedTrap;
  const firstSeq = s.stats ? s.stats.trapTotal - s.stats.trapHeld : 0;
  // biome-ignore lint/correctness/useExhaustiveDependencies: the same index names another record once the log drops old ones or a new run starts
  useEffect(() => {
    let live = true;
    if (sel === null) {
      setSelected(null);
      return;
    }
    emulator()
      .trapDetail(sel)
      .then((d) => live && setSelected(d))
      .catch(() => live && setSelected(null));
    return () => {
      live = false;
    };
  }, [sel, firstSeq, s.loaded]);
  const vms = s.loaded?.vms ?? 0;
  const consoles = Array.from({ length: vms }, (_, vm) => emulator().transcriptOf(vm));
  return {
    scenario:
      s.loading || !s.loaded || !s.active
        ? null
        : {
            guest: s.active.guestId,
            technique: s.loaded.technique,
            vms: s.loaded.vms,
            cpu: s.active.cpuModel ?? 'none',
            paging: s.loaded.technique !== 'hardware-assisted' ? 'none' : (s.active.paging ?? 'ept'),
          },
    status: s.status,
    stats: s.stats,
    kinds: s.loaded?.names.kinds ?? kindNames,
    regs: s.regs,
    vmInfo: s.vmInfo,
    consoles,
    selected: selected && selected.index === sel ? selected : null,
    rightTab: s.rightTab,
  };
}
