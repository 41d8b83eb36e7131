/**
 * The lesson format and its check vocabulary: every lesson in lessons/ parses; malformed files get
 * a message naming the line and the problem; each check passes on the live state that shows its
 * fact and fails on one that does not; answers are read from the state, not the file.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { CpuView, TrapDetail } from '../../worker/protocol.ts';
import { parseArgLine } from './args.ts';
import { parseAll } from './content.ts';
import { LessonParseError, parseLesson, parsePreset } from './parse.ts';
import { evaluate, type LiveState, parseCheck, parseProbe, probeValue, sameAnswer } from './vocab.ts';

const dir = join(import.meta.dirname, '../../../lessons');
const files = readdirSync(dir).filter((f) => /^\d+-.*\.md$/.test(f));

function cpu(over: Partial<CpuView> = {}): CpuView {
  return {
    label: 'x',
    gpr: { eax: 0, ebx: 0, ecx: 0, edx: 0, esi: 0, edi: 0, ebp: 0, esp: 0 },
    eip: 0x100000,
    eflags: 0x202,
    cpl: 0,
    mode: 'protected',
    segs: [{ name: 'cs', selector: 0x10, base: 0, limit: 0xffffffff, attrs: 0x9b, valid: true }],
    cr: { cr0: 0x11, cr2: 0, cr3: 0, cr4: 0 },
    gdtr: { base: 0x1000, limit: 0x27 },
    idtr: { base: 0x2000, limit: 0x17f },
    ldtr: 0,
    tr: 0x18,
    halted: false,
    ...over,
  };
}

const lgdt: TrapDetail = {
  index: 148,
  seq: 148,
  kind: 0,
  kindName: 'privileged instruction',
  invisible: false,
  vm: 0,
  cs: 0x11,
  eip: 0x100100,
  fields: [
    ['Reason', 'lgdt'],
    ['Instruction', 'lgdt fword ptr [0x1017ca]'],
    ['Guest CPL (as the guest believes)', '0'],
    ['VMM action', 'emulated'],
  ],
  changedRegs: [],
};

function live(over: Partial<LiveState> = {}): LiveState {
  const kinds = ['privileged instruction', 'port I/O', 'control register'];
  return {
    scenario: { guest: 'trapdemo', technique: 'trap-and-emulate', vms: 1, cpu: 'none', paging: 'none' },
    status: { state: 'idle', running: false, position: 't1' },
    stats: {
      instructions: 1000,
      virtualTimeNs: 1000,
      mips: 0,
      trapTotal: 12,
      trapDropped: 0,
      trapHeld: 12,
      trapsByKind: [2, 9, 1],
      trapsByVm: [12],
    },
    kinds,
    regs: { real: cpu({ cpl: 1, idtr: { base: 0xffc01000, limit: 0x7ff } }), virtual: cpu(), vm: 0 },
    vmInfo: null,
    consoles: ['[trapdemo] hello\n[trapdemo] lgdt: loaded own GDT\n'],
    selected: lgdt,
    rightTab: 'code',
    ...over,
  };
}

describe('the lessons in lessons/', () => {
  it('there are at least eight, numbered 1…8 in order', () => {
    const nums = files.map((f) => Number(f.split('-')[0])).sort((a, b) => a - b);
    expect(nums.slice(0, 8)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
  });

  for (const f of files) {
    it(`${f} parses: 3–6 steps, each with a check, sources cited`, () => {
      const l = parseLesson(`lessons/${f}`, readFileSync(join(dir, f), 'utf8'));
      expect(l.steps.length).toBeGreaterThanOrEqual(3);
      expect(l.steps.length).toBeLessThanOrEqual(6);
      expect(l.sources.length).toBeGreaterThan(0);
      expect(l.intro.length).toBeGreaterThan(100);
      for (const s of l.steps) expect(s.checks.length).toBeGreaterThan(0);
      expect(l.steps.some((s) => s.questions.length > 0)).toBe(true);
    });
  }

  it('lesson 1 declares its hosted step as hosting=type2, so it is enabled when type2 lands', () => {
    const f = files.find((x) => x.startsWith('01-'))!;
    const l = parseLesson(`lessons/${f}`, readFileSync(join(dir, f), 'utf8'));
    const hosted = l.steps.filter((s) => s.requires?.hosting === 'type2');
    expect(hosted).toHaveLength(1);
    expect(hosted[0].machine?.hosting).toBe('type2');
  });
});

describe('the lesson parser', () => {
  const ok = `---
title: T
preset: guest=trapdemo technique=trap-and-emulate vms=2 until="port I/O" skip="hidden page fault,port I/O" tab=stats
sources: A | B
---
Intro *text*.

## First
Do it.
\`\`\`check
consoleMatches vm=1 regex="\\[trapdemo\\] done"
statCount kind="port I/O" atLeast=3
\`\`\`
\`\`\`question
ask: How many?
answer: statCount kind="port I/O"
choices: 1 | 2
explain: Because.
  Continued.
\`\`\`
\`\`\`asm
cli
\`\`\`

## Second
\`\`\`step
machine: guest=hello technique=native
requires: hosting=type2
optional: yes
\`\`\`
\`\`\`check
tab name=vmcs
\`\`\`
`;

  it('reads front matter, steps, checks, questions and step blocks; other fences stay Markdown', () => {
    const l = parseLesson('lessons/03-x.md', ok);
    expect(l).toMatchObject({
      number: 3,
      slug: 'x',
      title: 'T',
      sources: ['A', 'B'],
      intro: 'Intro *text*.',
    });
    expect(l.preset).toEqual({
      guest: 'trapdemo',
      technique: 'trap-and-emulate',
      vms: 2,
      hosting: 'type1',
      until: 'port I/O',
      skip: ['hidden page fault', 'port I/O'],
      tab: 'stats',
    });
    expect(l.steps).toHaveLength(2);
    const [a, b] = l.steps;
    expect(a.checks.map((c) => c.type)).toEqual(['consoleMatches', 'statCount']);
    // Backslashes in a quoted regex are kept: \[ is a literal bracket.
    expect(a.checks[0]).toMatchObject({ vm: 1 });
    expect((a.checks[0] as { regex: RegExp }).regex.test('[trapdemo] done')).toBe(true);
    expect((a.checks[0] as { regex: RegExp }).regex.test('t done')).toBe(false);
    expect(a.questions[0]).toMatchObject({
      ask: 'How many?',
      choices: ['1', '2'],
      explain: 'Because.\nContinued.',
    });
    expect(a.body).toContain('```asm\ncli\n```');
    expect(b).toMatchObject({ optional: true, requires: { hosting: 'type2' } });
    expect(b.machine).toMatchObject({ guest: 'hello', technique: 'native', vms: 1 });
  });

  const broken: [string, string, RegExp][] = [
    ['no front matter', '# hi\n## s\n', /line 1: a lesson starts with front matter/],
    [
      'unknown guest',
      ok.replace('guest=trapdemo', 'guest=nope'),
      /line 3: .*"nope" is not in guests\/manifest\.json/,
    ],
    ['unknown check', ok.replace('tab name=vmcs', 'tabz name=vmcs'), /line 32: unknown check "tabz"/],
    [
      'unknown kind',
      ok.replace('kind="port I/O" atLeast', 'kind="port IO" atLeast'),
      /line 12: unknown trap kind "port IO"/,
    ],
    [
      'bad regex',
      ok.replace('regex="\\[trapdemo', 'regex="(trapdemo'),
      /line 11: .*not a valid regular expression/,
    ],
    ['typo key', ok.replace('atLeast=3', 'atleast=3'), /line 12: statCount has no "atleast"/],
    ['no comparison', ok.replace(' atLeast=3', ''), /statCount needs a comparison/],
    ['unclosed fence', ok.replace(/```\n$/, ''), /the ```check block is not closed/],
    [
      'step without check',
      ok.replace('```check\ntab name=vmcs\n```\n', ''),
      /step "Second" has no ```check block/,
    ],
    ['bad file name', ok, /file name must be NN-slug\.md/],
    ['unclosed quote', ok.replace('tab=stats', 'tab="stats'), /quoted value of "tab" is not closed/],
    [
      'native with 2 VMs',
      ok.replace('technique=trap-and-emulate vms=2', 'technique=native vms=2'),
      /native runs exactly one VM/,
    ],
  ];
  for (const [what, text, msg] of broken) {
    it(`refuses ${what} with a clear message`, () => {
      const file = what === 'bad file name' ? 'lessons/lesson.md' : 'lessons/05-bad.md';
      expect(() => parseLesson(file, text)).toThrow(LessonParseError);
      expect(() => parseLesson(file, text)).toThrow(msg);
    });
  }

  it('a broken file becomes an error entry; the others still load', () => {
    const all = parseAll({ '../x/01-good.md': ok, '../x/02-bad.md': '# nothing' });
    expect(all[0].ok).toBe(true);
    expect(all[1]).toMatchObject({ ok: false, file: 'lessons/02-bad.md' });
    expect(all[1].ok ? '' : all[1].error).toMatch(/^lessons\/02-bad\.md: line 1/);
  });

  it('key=value lines: quotes, escaped quotes, duplicates', () => {
    expect([...parseArgLine('a x=1 y="two words" z="say \\"hi\\""', true).args]).toEqual([
      ['x', '1'],
      ['y', 'two words'],
      ['z', 'say "hi"'],
    ]);
    expect(() => parseArgLine('a x=1 x=2', true)).toThrow(/given twice/);
    expect(() => parsePreset('guest=hello technique=warp')).toThrow(/unknown technique "warp"/);
    expect(() => parsePreset('guest=hello technique=native hosting=type3')).toThrow(/type1 or type2/);
  });

  it('a preset may choose the CPU generation and VT-x paging; bad values are named', () => {
    expect(
      parsePreset('guest=minikernel technique=hardware-assisted cpu=modern paging=shadow'),
    ).toMatchObject({
      cpu: 'modern',
      paging: 'shadow',
    });
    expect(parsePreset('guest=minikernel technique=native').cpu).toBeUndefined();
    expect(() => parsePreset('guest=hello technique=native cpu=p3')).toThrow(
      /cpu=p3: one of p4, nehalem, modern/,
    );
    expect(() => parsePreset('guest=hello technique=native paging=shadow')).toThrow(/hardware-assisted only/);
    expect(() => parseCheck('loaded cpu=486')).toThrow(/none or one of p4/);
    expect(() => parseCheck('loaded paging=nested')).toThrow(/ept, shadow or none/);
  });
});

describe('checks read the live state', () => {
  const cases: [string, Partial<LiveState>, Partial<LiveState>][] = [
    ['loaded guest=trapdemo technique=trap-and-emulate vms=1', {}, { scenario: null }],
    ['consoleMatches regex="lgdt: loaded"', {}, { consoles: ['[trapdemo] hello\n'] }],
    ['consoleMatches vm=1 regex="x"', { consoles: ['', 'x'] }, {}],
    ['selectedRecord kind="privileged instruction" mnemonic="^LGDT"', {}, { selected: null }],
    ['selectedRecord field="VMM action" value="^emulated$"', {}, { selected: { ...lgdt, fields: [] } }],
    ['selectedRecord reason="lgdt"', {}, { selected: { ...lgdt, fields: [['Reason', 'lidt']] } }],
    ['statCount kind="port I/O" atLeast=9', {}, { stats: null }],
    ['statCount kind="port I/O" equals=9 atMost=9', {}, {}],
    ['statCount kind=any equals=12', {}, {}],
    [
      'exitStatus state=exited code=1',
      { status: { state: 'exited', running: false, exitCode: 1, position: '' } },
      {},
    ],
    ['reg cpu=real name=cpl equals=1', {}, {}],
    ['reg name=idtr.base equals=0x2000', {}, {}],
    ['reg cpu=virtual name=if equals=1', {}, {}],
    ['regsDiffer name=idtr.base', {}, { regs: { real: cpu(), virtual: cpu(), vm: 0 } }],
    ['tab name=rings', { rightTab: 'rings' }, {}],
    [
      'loaded technique=hardware-assisted cpu=p4 paging=shadow',
      {
        scenario: {
          guest: 'minikernel',
          technique: 'hardware-assisted',
          vms: 1,
          cpu: 'p4',
          paging: 'shadow',
        },
      },
      {
        scenario: {
          guest: 'minikernel',
          technique: 'hardware-assisted',
          vms: 1,
          cpu: 'modern',
          paging: 'shadow',
        },
      },
    ],
    [
      'loaded cpu=none paging=ept',
      {
        scenario: { guest: 'minikernel', technique: 'hardware-assisted', vms: 1, cpu: 'none', paging: 'ept' },
      },
      {
        scenario: {
          guest: 'minikernel',
          technique: 'hardware-assisted',
          vms: 1,
          cpu: 'none',
          paging: 'shadow',
        },
      },
    ],
  ];
  for (const [line, pass, fail] of cases) {
    it(line, () => {
      const c = parseCheck(line);
      expect(evaluate(c, live(pass)).ok).toBe(true);
      const r = evaluate(c, live(fail));
      if (Object.keys(fail).length) expect(r.ok).toBe(false);
      expect(r.now.length).toBeGreaterThan(0);
    });
  }

  it('statCount with a failing bound, and counts it did not see', () => {
    expect(evaluate(parseCheck('statCount kind="port I/O" atLeast=10'), live()).ok).toBe(false);
    expect(evaluate(parseCheck('statCount kind="port I/O" atMost=8'), live()).ok).toBe(false);
    expect(evaluate(parseCheck('statCount kind="hypercall" equals=0'), live()).ok).toBe(true);
    expect(evaluate(parseCheck('statCount kind="port I/O" atLeast=10'), live()).now).toBe('port I/O: 9');
  });

  it('vmState, vmInfo paths and VMCS fields read the per-VM info', () => {
    const info = {
      vm: 0,
      state: 'hung',
      reason: '',
      running: false,
      memory: [],
      shadowTables: 7,
      traps: 0,
      hiddenFaults: 0,
      reflected: 0,
      injected: 0,
      silent: 1,
      switchesIn: 1,
      cycles: 0,
      vmcs: {
        addr: 0,
        launched: true,
        current: true,
        exits: 1,
        fields: [
          {
            enc: 0x4402,
            key: 'EXIT_REASON',
            name: 'Exit reason',
            group: 'exit-info' as const,
            width: 32,
            value: 30,
          },
        ],
      },
    };
    const l = live({ vmInfo: [info] });
    expect(evaluate(parseCheck('vmState vm=0 state=hung'), l).ok).toBe(true);
    expect(evaluate(parseCheck('vmState vm=0 state=hung'), live()).ok).toBe(false);
    expect(evaluate(parseCheck('vmInfo path=shadowTables atLeast=1'), l).ok).toBe(true);
    expect(evaluate(parseCheck('vmInfo path=translation.callouts atLeast=1'), l).ok).toBe(false);
    expect(evaluate(parseCheck('vmcsField name=EXIT_REASON equals=0x1e'), l).ok).toBe(true);
    expect(evaluate(parseCheck('vmcsField name=EXIT_REASON equals=28'), l).ok).toBe(false);
    expect(probeValue(parseProbe('vmcsField name=EXIT_REASON'), l)).toBe(30);
    expect(probeValue(parseProbe('vmInfo path=shadowTables'), l)).toBe(7);
  });
});

describe('answers come from the live state', () => {
  it('each probe reads the state, and null when the machine does not show it yet', () => {
    expect(probeValue(parseProbe('reg cpu=virtual name=idtr.base'), live())).toBe(0x2000);
    expect(probeValue(parseProbe('reg cpu=real name=idtr.base'), live())).toBe(0xffc01000);
    expect(probeValue(parseProbe('reg name=idtr.base'), live({ regs: null }))).toBeNull();
    expect(probeValue(parseProbe('field name="VMM action"'), live())).toBe('emulated');
    expect(probeValue(parseProbe('field name=Instruction regex="^(\\w+)"'), live())).toBe('lgdt');
    expect(
      probeValue(
        parseProbe('field name=summary regex="IF=(\\d)"'),
        live({ selected: { ...lgdt, summary: 'x (IF=1)' } }),
      ),
    ).toBe('1');
    expect(probeValue(parseProbe('field name=Port'), live())).toBeNull();
    expect(probeValue(parseProbe('statCount kind="control register"'), live())).toBe(1);
    expect(probeValue(parseProbe('console regex="hello\\n\\[trapdemo\\] (\\w+)"'), live())).toBe('lgdt');
    expect(() => parseProbe('nope x=1')).toThrow(/unknown answer source/);
  });

  it('answers compare numbers as numbers and text without case', () => {
    expect(sameAnswer('0x2000', 8192)).toBe(true);
    expect(sameAnswer('2000', 0x2000)).toBe(false);
    expect(sameAnswer(' Emulated ', 'emulated')).toBe(true);
    expect(sameAnswer('1,000', 1000)).toBe(true);
    expect(sameAnswer('0xFFC01000', 0xffc01000)).toBe(true);
    // As the registers panel shows them: eight hex digits, no 0x.
    expect(sameAnswer('00102000', 0x102000)).toBe(true);
    expect(sameAnswer('FFC01000', 0xffc01000)).toBe(true);
    expect(sameAnswer('true', 'false')).toBe(false);
  });
});
