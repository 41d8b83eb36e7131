/**
 * A lesson file (`lessons/NN-slug.md`): front matter, an introduction, then one `## ` section per
 * step. Inside a step, fenced blocks declare what the page checks and asks:
 *   ```check      one vocabulary line per fact the live machine must show (all must hold)
 *   ```question   ask: / answer: / choices: / explain:
 *   ```step       machine: (a preset this step loads) / requires: hosting=type2 / optional: yes
 * Everything else is Markdown, rendered as written. See lessons/README.md for the vocabulary.
 * Errors name the file and line, so a teacher sees what to fix; nothing here touches the DOM.
 */
import manifest from '../../../guests/manifest.json';
import { CPU_MODELS, type CpuModelId, parseCpuModel } from '../../hypervisor/vmm/cost-model.ts';
import { kindNames } from '../../hypervisor/vmm/trap-kinds.ts';
import { MAX_VMS, TECHNIQUES, type TechniqueId } from '../../worker/protocol.ts';
import { Args, LessonSyntaxError, parseArgLine } from './args.ts';
import { type Check, type Probe, parseCheck, parseProbe } from './vocab.ts';

export type Hosting = 'type1' | 'type2';

/** A machine a lesson (or one of its steps) opens with one click. */
export interface Preset {
  guest: string;
  technique: TechniqueId;
  vms: number;
  hosting: Hosting;
  /** The CPU generation of the cost model and the guest's TSC (`cpu=p4|nehalem|modern`). */
  cpu?: CpuModelId;
  /** hardware-assisted only: `paging=shadow` (first-generation VT-x) instead of EPT. */
  paging?: 'ept' | 'shadow';
  /** A run position (the share links' journal, src/worker/position.ts) replayed after loading. */
  at?: string;
  /** The trap kind the toolbar's Until menu is set to. */
  until?: string;
  /** Trap kinds Next trap runs past. */
  skip?: string[];
  /** The right-hand tab to show. */
  tab?: string;
}

export interface Question {
  ask: string;
  answer: Probe;
  /** The `answer:` line as written (shown to a teacher). */
  answerText: string;
  choices?: string[];
  /** Markdown, revealed once the student answered. */
  explain: string;
}

export interface Step {
  title: string;
  /** Markdown of the step's text (the declarative blocks removed). */
  body: string;
  checks: Check[];
  /** Each check line as written, for the checklist. */
  checkText: string[];
  questions: Question[];
  machine?: Preset;
  /** What the step needs that a build may lack (e.g. the hosted arrangement). */
  requires?: { hosting: Hosting };
  optional: boolean;
}

export interface Lesson {
  file: string;
  /** From the file name: 01-… → 1. */
  number: number;
  slug: string;
  title: string;
  summary: string;
  preset: Preset;
  sources: string[];
  intro: string;
  steps: Step[];
}

export class LessonParseError extends Error {}

const TABS = ['code', 'stats', 'rings', 'timeline', 'translation', 'vmcs', 'hosting', 'paging'];
const guestIds = new Set((manifest as { guests: { id: string }[] }).guests.map((g) => g.id));

function kindList(v: string, what: string): string[] {
  const out = v
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  for (const k of out) {
    if (!kindNames.includes(k)) throw new LessonSyntaxError(`${what}: unknown trap kind "${k}"`);
  }
  return out;
}

/** `guest=… technique=… vms=… hosting=… cpu=… paging=… at=… until=… skip=… tab=…` → a Preset. */
export function parsePreset(line: string): Preset {
  const a = new Args(parseArgLine(line, false), 'the preset');
  const guest = a.req('guest');
  if (!guestIds.has(guest))
    throw new LessonSyntaxError(`the preset's guest "${guest}" is not in guests/manifest.json`);
  const technique = a.req('technique');
  if (!(TECHNIQUES as readonly string[]).includes(technique)) {
    throw new LessonSyntaxError(`unknown technique "${technique}"; expected one of ${TECHNIQUES.join(', ')}`);
  }
  const vms = a.num('vms') ?? 1;
  if (!Number.isInteger(vms) || vms < 1 || vms > MAX_VMS)
    throw new LessonSyntaxError(`vms=${vms}: 1 to ${MAX_VMS}`);
  if (technique === 'native' && vms !== 1) throw new LessonSyntaxError('native runs exactly one VM');
  const hosting = a.opt('hosting') ?? 'type1';
  if (hosting !== 'type1' && hosting !== 'type2')
    throw new LessonSyntaxError(`hosting=${hosting}: type1 or type2`);
  const p: Preset = { guest, technique: technique as TechniqueId, vms, hosting };
  const cpu = a.opt('cpu');
  if (cpu !== undefined) {
    const m = parseCpuModel(cpu);
    if (!m) throw new LessonSyntaxError(`cpu=${cpu}: one of ${CPU_MODELS.join(', ')}`);
    p.cpu = m;
  }
  const paging = a.opt('paging');
  if (paging !== undefined) {
    if (paging !== 'ept' && paging !== 'shadow')
      throw new LessonSyntaxError(`paging=${paging}: ept or shadow`);
    if (technique !== 'hardware-assisted')
      throw new LessonSyntaxError('paging= applies to technique=hardware-assisted only');
    p.paging = paging;
  }
  const at = a.opt('at');
  if (at !== undefined) {
    if (!/^[a-z0-9_.\-A-Z]+$/.test(at)) throw new LessonSyntaxError(`at=${at} is not a run position`);
    p.at = at;
  }
  const until = a.opt('until');
  if (until !== undefined) p.until = kindList(until, 'until')[0];
  const skip = a.opt('skip');
  if (skip !== undefined) p.skip = kindList(skip, 'skip');
  const tab = a.opt('tab');
  if (tab !== undefined) {
    if (!TABS.includes(tab)) throw new LessonSyntaxError(`tab=${tab}: the tabs are ${TABS.join(', ')}`);
    p.tab = tab;
  }
  a.done();
  return p;
}

/** `key: value` lines (a value may continue on indented lines). */
function keyValues(
  lines: string[],
  startLine: number,
  what: string,
): Map<string, { v: string; line: number }> {
  const out = new Map<string, { v: string; line: number }>();
  let last: string | null = null;
  lines.forEach((raw, i) => {
    if (raw.trim() === '') return;
    const m = /^([A-Za-z][\w-]*):\s*(.*)$/.exec(raw);
    if (m) {
      if (out.has(m[1])) throw at(startLine + i, `${what}: "${m[1]}" is given twice`);
      out.set(m[1], { v: m[2].trim(), line: startLine + i });
      last = m[1];
    } else if (last !== null && /^\s/.test(raw)) {
      const e = out.get(last)!;
      e.v = `${e.v}\n${raw.trim()}`;
    } else throw at(startLine + i, `${what}: expected "key: value", got "${raw.trim()}"`);
  });
  return out;
}

function at(line: number, msg: string): LessonSyntaxError {
  return new LessonSyntaxError(`line ${line}: ${msg}`);
}

function wrap<T>(line: number, f: () => T): T {
  try {
    return f();
  } catch (e) {
    if (e instanceof LessonSyntaxError && !/^line \d+:/.test(e.message)) throw at(line, e.message);
    throw e;
  }
}

function only(kv: Map<string, unknown>, allowed: string[], line: number, what: string): void {
  for (const k of kv.keys()) {
    if (!allowed.includes(k)) throw at(line, `${what} has no "${k}:" (it takes ${allowed.join(', ')})`);
  }
}

interface Section {
  title: string;
  line: number;
  md: string[];
  blocks: { kind: string; lines: string[]; line: number }[];
}

/** Parse one lesson file; throws LessonParseError naming the file and line. */
export function parseLesson(file: string, text: string): Lesson {
  try {
    return parseOrThrow(file, text);
  } catch (e) {
    if (e instanceof LessonSyntaxError) throw new LessonParseError(`${file}: ${e.message}`);
    throw e;
  }
}

function parseOrThrow(file: string, text: string): Lesson {
  const name = file.split('/').pop() ?? file;
  const fm = /^(\d+)-([a-z0-9-]+)\.md$/.exec(name);
  if (!fm) throw new LessonSyntaxError('the file name must be NN-slug.md (e.g. 02-trap-and-emulate.md)');
  const lines = text.replace(/\r\n?/g, '\n').split('\n');
  if (lines[0] !== '---')
    throw at(1, 'a lesson starts with front matter: a line "---", then title:, preset: …');
  const end = lines.indexOf('---', 1);
  if (end < 0) throw at(1, 'the front matter is not closed with a line "---"');
  const front = keyValues(lines.slice(1, end), 2, 'front matter');
  only(front, ['title', 'summary', 'preset', 'sources'], 1, 'the front matter');
  const need = (k: string) => {
    const v = front.get(k);
    if (!v?.v) throw at(1, `the front matter needs ${k}:`);
    return v;
  };
  const title = need('title').v;
  const presetLine = need('preset');
  const preset = wrap(presetLine.line, () => parsePreset(presetLine.v));
  const sources = need('sources')
    .v.split(/\s*\|\s*|\n/)
    .map((s) => s.trim())
    .filter(Boolean);

  // Sections: the introduction, then one per "## " heading (outside fenced code).
  const sections: Section[] = [{ title: '', line: end + 2, md: [], blocks: [] }];
  let fence: { kind: string; lines: string[]; line: number; marker: string } | null = null;
  for (let i = end + 1; i < lines.length; i++) {
    const l = lines[i];
    const cur = sections[sections.length - 1];
    if (fence) {
      if (l.trim() === fence.marker) {
        if (['check', 'question', 'step'].includes(fence.kind)) cur.blocks.push(fence);
        else cur.md.push(...[`${fence.marker}${fence.kind}`, ...fence.lines, fence.marker]);
        fence = null;
      } else fence.lines.push(l);
      continue;
    }
    const f = /^(```+)\s*([\w-]*)\s*$/.exec(l);
    if (f) {
      fence = { kind: f[2], lines: [], line: i + 1, marker: f[1] };
      continue;
    }
    const h = /^##\s+(.+?)\s*$/.exec(l);
    if (h) {
      sections.push({ title: h[1], line: i + 1, md: [], blocks: [] });
      continue;
    }
    cur.md.push(l);
  }
  if (fence) throw at(fence.line, `the \`\`\`${fence.kind} block is not closed`);
  const [introSec, ...stepSecs] = sections;
  if (introSec.blocks.length) {
    throw at(introSec.blocks[0].line, 'checks and questions belong in a step (after a "## " heading)');
  }
  if (stepSecs.length === 0) throw at(end + 2, 'a lesson needs at least one step: a "## " heading');
  const steps = stepSecs.map(parseStep);
  return {
    file,
    number: Number(fm[1]),
    slug: fm[2],
    title,
    summary: front.get('summary')?.v ?? '',
    preset,
    sources,
    intro: introSec.md.join('\n').trim(),
    steps,
  };
}

function parseStep(s: Section): Step {
  const step: Step = {
    title: s.title,
    body: s.md.join('\n').trim(),
    checks: [],
    checkText: [],
    questions: [],
    optional: false,
  };
  for (const b of s.blocks) {
    if (b.kind === 'check') {
      b.lines.forEach((l, i) => {
        if (l.trim() === '' || l.trim().startsWith('#')) return;
        step.checks.push(wrap(b.line + 1 + i, () => parseCheck(l)));
        step.checkText.push(l.trim());
      });
    } else if (b.kind === 'question') {
      const kv = keyValues(b.lines, b.line + 1, 'question');
      only(kv, ['ask', 'answer', 'choices', 'explain'], b.line, 'a question');
      const get = (k: string) => {
        const v = kv.get(k);
        if (!v?.v) throw at(b.line, `a question needs ${k}:`);
        return v;
      };
      const ans = get('answer');
      const q: Question = {
        ask: get('ask').v,
        answer: wrap(ans.line, () => parseProbe(ans.v)),
        answerText: ans.v,
        explain: get('explain').v,
      };
      const ch = kv.get('choices');
      if (ch) {
        q.choices = ch.v
          .split('|')
          .map((x) => x.trim())
          .filter(Boolean);
        if (q.choices.length < 2) throw at(ch.line, 'choices: needs at least two, separated by |');
      }
      step.questions.push(q);
    } else {
      const kv = keyValues(b.lines, b.line + 1, 'step');
      only(kv, ['machine', 'requires', 'optional'], b.line, 'a step block');
      const m = kv.get('machine');
      if (m) step.machine = wrap(m.line, () => parsePreset(m.v));
      const r = kv.get('requires');
      if (r) {
        const a = new Args(parseArgLine(r.v, false), 'requires');
        const hosting = wrap(r.line, () => a.req('hosting'));
        wrap(r.line, () => a.done());
        if (hosting !== 'type1' && hosting !== 'type2')
          throw at(r.line, `requires hosting=${hosting}: type1 or type2`);
        step.requires = { hosting };
      }
      const o = kv.get('optional');
      if (o) step.optional = /^(yes|true)$/i.test(o.v);
    }
  }
  if (step.checks.length === 0)
    throw at(s.line, `step "${s.title}" has no \`\`\`check block: how does the page know it is done?`);
  return step;
}
