/**
 * Trap counts per kind over virtual time, sampled from the live stats each time the store takes a
 * frame (a few times a second while running, and at every stop). Kept outside React state: the
 * timeline reads it when it draws.
 */
import { useUi } from '../store.ts';

export interface Sample {
  /** Virtual time (ns) of the sample. */
  t: number;
  /** Records ever logged, per kind, at that time. */
  counts: number[];
}

export interface Bars {
  /** Start of each stretch (virtual ns). */
  t: number[];
  /** Records per kind in each stretch: d[kind][stretch]. */
  d: number[][];
}

/** Per-stretch counts from cumulative samples (a counter never goes backwards within a run). */
export function barsOf(s: readonly Sample[], kinds: number): Bars {
  const t: number[] = [];
  const d: number[][] = Array.from({ length: kinds }, () => []);
  for (let i = 1; i < s.length; i++) {
    t.push(s[i - 1].t);
    for (let k = 0; k < kinds; k++) d[k].push(Math.max(0, (s[i].counts[k] ?? 0) - (s[i - 1].counts[k] ?? 0)));
  }
  return { t, d };
}

const MAX_SAMPLES = 240;
let samples: Sample[] = [];
let version = 0;
const listeners = new Set<() => void>();

export function getSamples(): readonly Sample[] {
  return samples;
}

export function samplesVersion(): number {
  return version;
}

export function subscribeSamples(f: () => void): () => void {
  listeners.add(f);
  return () => listeners.delete(f);
}

/** Merge neighbours when full: the timeline keeps the whole run at a coarser grain. */
function thin(s: Sample[]): Sample[] {
  return s.filter((_, i) => i % 2 === 1 || i === s.length - 1);
}

export function addSample(t: number, counts: number[]): void {
  const last = samples.at(-1);
  if (last && t < last.t) samples = []; // a new run
  if (last && t === last.t && counts.every((c, i) => c === last.counts[i])) return;
  samples.push({ t, counts: counts.slice() });
  if (samples.length > MAX_SAMPLES) samples = thin(samples);
  version++;
  for (const f of listeners) f();
}

export function clearSamples(): void {
  samples = [];
  version++;
  for (const f of listeners) f();
}

let started = false;
/** Start sampling the store (idempotent). */
export function startSampling(): void {
  if (started) return;
  started = true;
  useUi.subscribe((s, p) => {
    if (s.serialGen !== p.serialGen) clearSamples();
    if (s.stats && s.stats !== p.stats) addSample(s.stats.virtualTimeNs, s.stats.trapsByKind);
  });
}
