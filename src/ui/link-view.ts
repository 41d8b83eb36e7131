/**
 * What the page shows, carried in a share link beside the scenario and the run position: the
 * right-hand tab (`&tab=vmcs`) and the EPT view's address box (`&ept=c0100000`, with
 * `&eptspace=physical` for a guest-physical address). Opening such a link opens that tab and walks
 * that address once the replay has stopped; a bad value is named in a toast and ignored.
 */
import type { TechniqueId } from '../worker/protocol.ts';
import { type UiState, useUi } from './store.ts';

export type RightTab = UiState['rightTab'];
export type EptSpace = 'linear' | 'guest-physical';
export type EptAsk = NonNullable<UiState['eptAsk']>;

/** The right-hand tabs in their order on screen, with their labels (for messages). */
export const RIGHT_TABS: { id: RightTab; label: string }[] = [
  { id: 'code', label: 'Code & memory' },
  { id: 'stats', label: 'Stats' },
  { id: 'rings', label: 'Rings' },
  { id: 'timeline', label: 'Timeline' },
  { id: 'hosting', label: 'Hosting' },
  { id: 'translation', label: 'Translation' },
  { id: 'paging', label: 'Paging' },
  { id: 'vmcs', label: 'VMCS' },
];

/** Whether a tab exists under a technique (the toolbar shows only these). */
export function tabAvailable(tab: RightTab, t: TechniqueId | undefined): boolean {
  switch (tab) {
    case 'translation':
      return t === 'binary-translation';
    case 'paging':
      return t === 'trap-and-emulate' || t === 'binary-translation' || t === 'paravirtual';
    case 'vmcs':
      return t === 'hardware-assisted';
    default:
      return true;
  }
}

/** "c0100000", "0xC010_0000" → the address; null when it is not 1–8 hex digits. */
export function parseHexAddress(text: string): number | null {
  const t = text.trim().replace(/_/g, '').replace(/^0x/i, '');
  if (!/^[0-9a-f]{1,8}$/i.test(t)) return null;
  return Number.parseInt(t, 16) >>> 0;
}

export const hexAddr = (v: number) => `0x${(v >>> 0).toString(16).padStart(8, '0')}`;

export interface LinkView {
  tab: RightTab | null;
  ept: EptAsk | null;
  /** One sentence per bad value, for the user (the value is ignored). */
  errors: string[];
}

const clip = (s: string) => (s.length > 40 ? `${s.slice(0, 40)}…` : s);

/** The view part of a query string, checked against the scenario's technique. */
export function viewFromSearch(search: string, technique: TechniqueId): LinkView {
  const q = new URLSearchParams(search);
  const out: LinkView = { tab: null, ept: null, errors: [] };
  const tab = q.get('tab');
  if (tab !== null) {
    const known = RIGHT_TABS.find((x) => x.id === tab);
    if (!known) {
      out.errors.push(
        `The link's tab “${clip(tab)}” does not exist (tabs: ${RIGHT_TABS.map((x) => x.id).join(', ')}); showing Code & memory.`,
      );
    } else if (!tabAvailable(known.id, technique)) {
      out.errors.push(
        `The link asks for the ${known.label} tab, which ${technique} does not have; showing Code & memory.`,
      );
    } else out.tab = known.id;
  }
  const ept = q.get('ept');
  const space = q.get('eptspace');
  if (ept !== null) {
    const addr = parseHexAddress(ept);
    if (technique !== 'hardware-assisted') {
      out.errors.push(
        `The link's EPT address is ignored: only hardware-assisted has an EPT (this is ${technique}).`,
      );
    } else if (addr === null) {
      out.errors.push(
        `The link's EPT address “${clip(ept)}” is not an address (1 to 8 hex digits, e.g. c0100000).`,
      );
    } else if (space !== null && space !== 'physical' && space !== 'linear') {
      out.errors.push(`The link's EPT address space “${clip(space)}” is neither “linear” nor “physical”.`);
    } else out.ept = { addr, space: space === 'physical' ? 'guest-physical' : 'linear' };
  }
  return out;
}

/** The view's query parameters as they go in a link (defaults left out). */
export function viewParams(tab: RightTab, ept: EptAsk | null): [string, string][] {
  const p: [string, string][] = [];
  if (tab !== 'code') p.push(['tab', tab]);
  if (ept) {
    p.push(['ept', (ept.addr >>> 0).toString(16)]);
    if (ept.space === 'guest-physical') p.push(['eptspace', 'physical']);
  }
  return p;
}

const VIEW_PARAMS = ['tab', 'ept', 'eptspace'];
let linkApplied = false;

/** Rewrite the view part of the URL (everything else kept, in place), without a history entry. */
function writeView(tab: RightTab, ept: EptAsk | null): void {
  const q = new URLSearchParams(location.search);
  for (const k of VIEW_PARAMS) q.delete(k);
  for (const [k, v] of viewParams(tab, ept)) q.append(k, v);
  const s = q.toString();
  const url = `${location.pathname}${s ? `?${s}` : ''}${location.hash}`;
  if (url !== `${location.pathname}${location.search}${location.hash}`) history.replaceState(null, '', url);
}

/**
 * Apply the link's view to the store (bad values toasted) and keep the URL in step with the tab and
 * the EPT address from then on. Only on the playground's own page: a lesson sets its tabs itself.
 * Returns the unsubscribe function.
 */
export function syncViewWithUrl(technique: TechniqueId): () => void {
  if (new URLSearchParams(location.search).has('view')) return () => {};
  const ui = useUi.getState();
  // Once per document (React's development mode mounts twice: one toast per bad value).
  if (!linkApplied) {
    linkApplied = true;
    const v = viewFromSearch(location.search, technique);
    ui.set({ rightTab: v.tab ?? 'code', eptAsk: v.ept });
    for (const e of v.errors) ui.toast(e);
  }
  const now = useUi.getState();
  writeView(now.rightTab, now.eptAsk);
  return useUi.subscribe((s, p) => {
    // Another technique: a tab it lacks falls back to the first, and only VT-x has an EPT.
    const t = s.scenario.technique;
    if (t !== p.scenario.technique) {
      const fix: Partial<UiState> = {};
      if (!tabAvailable(s.rightTab, t)) fix.rightTab = 'code';
      if (t !== 'hardware-assisted' && s.eptAsk) fix.eptAsk = null;
      if (fix.rightTab || fix.eptAsk === null) {
        s.set(fix);
        return;
      }
    }
    if (s.rightTab !== p.rightTab || s.eptAsk !== p.eptAsk) writeView(s.rightTab, s.eptAsk);
  });
}
