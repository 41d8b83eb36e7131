/**
 * The `traplab` CLI as users and scripts see it: spawned as a child process (`node bin/traplab.mjs`),
 * checked by its output and exit status.
 */
import { type SpawnSyncReturns, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { nasmFile } from '../session/test-nasm.ts';

const ROOT = resolve(import.meta.dirname, '..', '..');
const BIN = join(ROOT, 'bin', 'traplab.mjs');
const tmp = mkdtempSync(join(tmpdir(), 'traplab-cli-'));
const hasScript = spawnSync('script', ['--version']).status === 0;

function traplab(args: string[], input?: string): SpawnSyncReturns<string> {
  return spawnSync(process.execPath, [BIN, ...args], {
    cwd: tmp,
    encoding: 'latin1',
    input: input ?? '',
    timeout: 60_000,
    env: { ...process.env, TRAPLAB_DEBUG: '' },
  });
}

function expectUsage(r: SpawnSyncReturns<string>, msg: RegExp): void {
  expect(r.stderr).toMatch(msg);
  expect(r.status).toBe(64);
  expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
  expect(r.stderr.trim().split('\n').length).toBe(1);
}

// A guest that writes to the debug console and POST port, prints a prompt, echoes COM1 input
// (polling the LSR), exits with 0x2A on 'q' and resets the machine through the i8042 on 'r'.
const ECHO = `
start:
    mov esp, 0x90000
    mov dx, 0xE9
    mov al, 'd'
    out dx, al
    mov al, 10
    out dx, al
    mov al, 0x42
    out 0x80, al
    mov al, 0x43
    out 0x80, al
    mov esi, prompt
    call puts
next:
    mov dx, 0x3FD
.wait:
    in al, dx
    test al, 1
    jz .wait
    mov dx, 0x3F8
    in al, dx
    cmp al, 'q'
    je quit
    cmp al, 'r'
    je reboot
    call putc
    jmp next
quit:
    mov al, 0x2A
    out 0xF4, al
    jmp $
reboot:
    mov al, 0xFE
    out 0x64, al
    jmp $
putc:                       ; AL -> COM1
    push eax
    mov dx, 0x3FD
.t: in al, dx
    test al, 0x20
    jz .t
    pop eax
    mov dx, 0x3F8
    out dx, al
    ret
puts:
    lodsb
    test al, al
    jz .d
    call putc
    jmp puts
.d: ret
prompt: db "ready> ", 0
`;

// An interrupt-driven echo: UART receive interrupt on IRQ 4 (vector 0x24), otherwise STI; HLT with
// no timer armed — the session is 'idle' between keys. Exits with 0x11 on 'q'.
const IRQ_ECHO = `
ORG_ equ 0x100000
    mov esp, 0x90000
    lgdt [gdtr]
    lidt [idtr]
    mov al, 0x11
    out 0x20, al
    mov al, 0x20
    out 0x21, al
    mov al, 4
    out 0x21, al
    mov al, 1
    out 0x21, al
    mov al, 0xEF             ; only IRQ 4
    out 0x21, al
    mov al, 0xFF
    out 0xA1, al
    mov dx, 0x3F9
    mov al, 1                ; IER: received data available
    out dx, al
    mov dx, 0x3FC
    mov al, 0x08             ; MCR: OUT2 gates the IRQ line on a PC
    out dx, al
    mov esi, msg
.puts:
    lodsb
    test al, al
    jz .done
    call putc
    jmp .puts
.done:
    sti
.idle:
    hlt
    jmp .idle
irq4:
    mov dx, 0x3F8
    in al, dx
    cmp al, 'q'
    je .quit
    call putc
    mov al, 0x20
    out 0x20, al
    iret
.quit:
    mov al, 0x11
    out 0xF4, al
    jmp $
putc:
    push eax
    mov dx, 0x3FD
.t: in al, dx
    test al, 0x20
    jz .t
    pop eax
    mov dx, 0x3F8
    out dx, al
    ret
msg: db "irq-ready", 0
align 8
gdt: dq 0, 0
    dq 0x00CF9A000000FFFF    ; 0x10: flat 32-bit code
    dq 0x00CF92000000FFFF    ; 0x18: flat data
gdtr: dw 31
    dd gdt
idt: times 0x24 dq 0
    dw (irq4 - $$ + ORG_) & 0xFFFF, 0x10, 0x8E00, (irq4 - $$ + ORG_) >> 16
idtr: dw 0x25 * 8 - 1
    dd idt
`;

// LIDT with limit 0, then UD2: #UD → #GP (vector beyond the IDT limit) → #DF → triple fault.
const TRIPLE = `
    lidt [idt]
    ud2
idt: dw 0
    dd 0
`;

describe('traplab CLI: help, list and bad arguments', () => {
  it('prints help and lists the guests', () => {
    const h = traplab(['--help']);
    expect(h.status).toBe(0);
    expect(h.stdout).toMatch(/traplab run/);
    const rh = traplab(['run', '--help']);
    expect(rh.status).toBe(0);
    for (const flag of [
      '--guest',
      '--kernel',
      '--initrd',
      '--append',
      '--bios',
      '--raw',
      '--entry',
      '--technique',
      '--vms',
      '--mem',
      '--serial',
      '--wait-for',
      '--send',
      '--debugcon',
      '--post-log',
      '--trace',
      '--stats',
      '--max-instructions',
      '--no-reboot',
    ]) {
      expect(rh.stdout).toContain(flag);
    }
    const l = traplab(['list']);
    expect(l.status).toBe(0);
    expect(l.stdout).toMatch(/^hello\s+Hello, protected mode/m);
    const j = JSON.parse(traplab(['list', '--json']).stdout);
    expect(j.some((g: { id: string }) => g.id === 'hello')).toBe(true);
  });

  it('exits 64 with one clear line for every bad command line or image', () => {
    writeFileSync(join(tmp, 'junk.bin'), Buffer.alloc(4096, 0x5a));
    writeFileSync(join(tmp, 'empty.bin'), '');
    expectUsage(traplab(['bogus']), /unknown command 'bogus'/);
    expectUsage(traplab(['run']), /no guest/);
    expectUsage(traplab(['run', '--guest', 'hello', '--frob']), /unknown option '--frob'/);
    expectUsage(traplab(['run', '--guest', 'nosuch']), /unknown guest 'nosuch' \(known: .*hello/);
    expectUsage(
      traplab(['run', '--kernel', 'missing.elf']),
      /cannot read kernel 'missing.elf': no such file/,
    );
    expectUsage(traplab(['run', '--kernel', tmp]), /is a directory/);
    expectUsage(traplab(['run', '--kernel', 'empty.bin']), /kernel 'empty.bin' is empty/);
    expectUsage(traplab(['run', '--kernel', 'junk.bin']), /unrecognised kernel format/);
    // An unmodified kernel under paravirtual: refused up front, exit 64, one clear line.
    expectUsage(traplab(['run', '--guest', 'hello', '--technique', 'pv']), /carries no PV guest header/);
    expectUsage(
      traplab(['run', '--guest', 'hello', '--vms', '2']),
      /native runs one guest; use --technique trap-and-emulate/,
    );
    expectUsage(traplab(['run', '--raw', 'junk.bin@0xF0000000', '--entry', '0xF0000000']), /raw image/);
    expectUsage(traplab(['run', '--raw', 'junk.bin@0x100000', '--entry', '0x200000']), /entry point/);
    expectUsage(
      traplab(['run', '--guest', 'hello', '--serial', 'file:/nonexistent/dir/out']),
      /--serial: cannot write/,
    );
    expectUsage(traplab(['run', '--guest', 'hello', '--max-instructions', 'lots']), /whole number/);
  });
});

describe('traplab CLI: running guests', () => {
  let echo = '';
  let triple = '';
  let irqEcho = '';
  beforeAll(() => {
    irqEcho = nasmFile('irqecho', IRQ_ECHO);
    echo = nasmFile('echo', ECHO);
    triple = nasmFile('triple', TRIPLE);
  });

  it('runs the hello guest: greeting on stdout, exit status (0 << 1) | 1', () => {
    const r = traplab(['run', '--guest', 'hello']);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('Hello from TrapLab! This guest runs in 32-bit protected mode.\r\n');
    expect(r.status).toBe(1);
  });

  it('sends the console to a file with --serial file:PATH and debugcon to stderr', () => {
    const r = traplab(['run', '--guest', 'hello', '--serial', 'file:hello.txt']);
    expect(r.stdout).toBe('');
    expect(readFileSync(join(tmp, 'hello.txt'), 'latin1')).toBe(
      'Hello from TrapLab! This guest runs in 32-bit protected mode.\r\n',
    );
    expect(r.status).toBe(1);
    // Scripts watch the console even when it is not shown.
    const d = traplab([
      'run',
      '--raw',
      `${echo}@0x100000`,
      '--entry',
      '0x100000',
      '--debugcon',
      'stderr',
      '--serial',
      'none',
      '--wait-for',
      'ready',
      '--send',
      'q',
    ]);
    expect(d.stderr).toBe('d\n');
    expect(d.stdout).toBe('');
    expect(d.status).toBe(85);
  });

  it('stops a runaway guest at --max-instructions with 124', () => {
    const r = traplab([
      'run',
      '--raw',
      `${echo}@0x100000`,
      '--entry',
      '0x100000',
      '--serial',
      'none',
      '--max-instructions',
      '20000',
      '--stats',
    ]);
    expect(r.status).toBe(124);
    expect(r.stderr).toMatch(/stopped after 20000 instructions/);
    expect(r.stderr).toMatch(/^instructions\s+20000$/m);
  });

  it('--until-exit N stops right after the first VM exit with that reason (VT-x)', () => {
    const r = traplab([
      'run',
      'trapdemo',
      '--technique',
      'vtx',
      '--until-exit',
      '30',
      '--trace',
      'until.jsonl',
    ]);
    expect(r.stderr).toMatch(
      /^traplab: stopped at VM exit 30 \(I\/O instruction\): record \d+, VM 0, [0-9A-F]{4}:[0-9A-F]{8} (in|out)/m,
    );
    expect(r.status).toBe(0);
    // The trace ends at that record: the first I/O exit is the last record written.
    const recs = readFileSync(join(tmp, 'until.jsonl'), 'latin1')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(recs.at(-1)).toMatchObject({ kindName: 'VM exit', reason: 30 });
    expect(recs.slice(0, -1).filter((x) => x.reason === 30 && x.kindName === 'VM exit')).toEqual([]);
  });

  it('reports a triple fault with status 2 and a one-line reason', () => {
    const r = traplab(['run', '--raw', `${triple}@0x100000`, '--entry', '0x100000']);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/^traplab: triple fault: .+\n$/);
    expect(r.stderr).not.toMatch(/triple fault: triple fault/);
  });

  it('tells an unvirtualizable VM (6) from a triple fault; cli; hlt is a power-off (0) natively and under a VMM', () => {
    const halt = nasmFile('cli-hlt', 'cli\nhlt\n');
    const raw = ['--raw', `${halt}@0x100000`, '--entry', '0x100000'];
    const nat = traplab(['run', ...raw]);
    expect(nat.status).toBe(0); // how a kernel without ACPI powers off
    expect(nat.stderr).toBe('traplab: guest powered off (HLT with interrupts off), exit status 0\n');
    // Nothing was silently lost (no POPF/IRET dropped an IF change): the guest meant to stop.
    // (A lost IF change makes the same HLT a hang, status 4: the minikernel test below.)
    const te = traplab(['run', ...raw, '--technique', 'trap-and-emulate']);
    expect(te.status).toBe(0);
    expect(te.stderr).toBe(
      'traplab: guest powered off: HLT with interrupts disabled (virtual IF = 0), as the guest intended, exit status 0\n',
    );
    const vtx = traplab(['run', ...raw, '--technique', 'vtx']);
    expect(vtx.status).toBe(0);
    expect(vtx.stderr).toBe(
      'traplab: guest powered off: HLT with interrupts disabled (RFLAGS.IF = 0), exit status 0\n',
    );
    const realMode = nasmFile('real-mode', 'mov eax, cr0\nand eax, ~1\nmov cr0, eax\nhlt\n');
    const u = traplab([
      'run',
      '--raw',
      `${realMode}@0x100000`,
      '--entry',
      '0x100000',
      '--technique',
      'trap-and-emulate',
    ]);
    expect(u.status).toBe(6);
    expect(u.stderr).toMatch(
      /^traplab: the hypervisor cannot virtualize this guest: .*real mode is not virtualized\n$/,
    );
    expect(u.stderr).not.toMatch(/triple fault/);
  });

  it('reports minikernel under trap-and-emulate as hung on its lost POPF, with per-VM stats', () => {
    const r = traplab(['run', '--guest', 'minikernel', '--technique', 'trap-and-emulate', '--stats']);
    expect(r.status).toBe(4);
    expect(r.stdout.endsWith('[mini] interrupt')).toBe(true);
    const m =
      /^traplab: hung: .*its POPF at 0x([0-9a-f]+) re-enabled them without a trap \(silent event #(\d+) in the trap log\)$/m.exec(
        r.stderr,
      );
    expect(m).not.toBeNull();
    const row = /^ {2}VM 0 +(\d+) +(\d+) +(\d+) +(\d+) +(\d+) +(\d+) +(\d+)$/m.exec(r.stderr);
    expect(row).not.toBeNull();
    const [traps, , , , silent, , cycles] = (row ?? []).slice(1).map(Number);
    expect(traps).toBeGreaterThan(100);
    expect(silent).toBeGreaterThanOrEqual(1);
    const cost = /^modelled cost {2}(\d+) cycles/m.exec(r.stderr);
    expect(cycles).toBe(Number(cost?.[1])); // one VM: its cycles are the whole log's
  });

  it('scripts the console with --wait-for/--send, and the result is deterministic', () => {
    const args = [
      'run',
      '--raw',
      `${echo}@0x100000`,
      '--entry',
      '0x100000',
      '--stats',
      '--wait-for',
      'ready> ',
      '--send',
      'hi\\r\\n',
      '--wait-for',
      'hi',
      '--send',
      'q',
    ];
    const a = traplab(args);
    expect(a.stdout).toBe('ready> hi\r\n');
    expect(a.status).toBe((0x2a << 1) | 1);
    const b = traplab(args);
    expect(b.stdout).toBe(a.stdout);
    const count = (s: string) => /^instructions\s+(\d+)$/m.exec(s)?.[1];
    expect(count(a.stderr)).toBeDefined();
    expect(count(b.stderr)).toBe(count(a.stderr));
  });

  it('feeds piped stdin to the UART and writes debugcon, POST codes and the trace', () => {
    const r = traplab(
      [
        'run',
        '--raw',
        `${echo}@0x100000`,
        '--entry',
        '0x100000',
        '--debugcon',
        'file:dbg.txt',
        '--post-log',
        'post.txt',
        '--trace',
        'trace.jsonl',
      ],
      'Hello, abcdefghijklmnop-stuvwxyz 0123456789!q',
    );
    expect(r.stdout).toBe('ready> Hello, abcdefghijklmnop-stuvwxyz 0123456789!');
    expect(r.status).toBe(85);
    expect(readFileSync(join(tmp, 'dbg.txt'), 'latin1')).toBe('d\n');
    expect(readFileSync(join(tmp, 'post.txt'), 'utf8')).toBe('42\n43\n');
    const trace = readFileSync(join(tmp, 'trace.jsonl'), 'utf8');
    // Native has no VMM, so no traps; every line that is there must be one JSON object.
    for (const line of trace.split('\n').filter(Boolean)) expect(typeof JSON.parse(line).seq).toBe('number');
  });

  it('ends with 0 when the guest resets the machine under --no-reboot', () => {
    const r = traplab(
      ['run', '--raw', `${echo}@0x100000`, '--entry', '0x100000', '--no-reboot', '--serial', 'stdio'],
      'r',
    );
    expect(r.status).toBe(0);
    expect(r.stdout).toBe('ready> ');
  });

  it('stays interruptible: SIGINT stops a runaway guest with 130 and still prints stats', async () => {
    const child = spawn(
      process.execPath,
      [BIN, 'run', '--raw', `${echo}@0x100000`, '--entry', '0x100000', '--stats'],
      {
        cwd: tmp,
        stdio: ['pipe', 'pipe', 'pipe'],
      },
    );
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => {
      out += d;
      if (out.includes('ready> ')) child.kill('SIGINT');
    });
    child.stderr.on('data', (d) => {
      err += d;
    });
    const code = await new Promise<number | null>((res) => child.on('exit', (c) => res(c)));
    expect(code).toBe(130);
    expect(err).toMatch(/traplab: interrupted \(SIGINT\)/);
    expect(err).toMatch(/^instructions\s+\d+$/m);
  });

  it.skipIf(!hasScript)('on a terminal: raw keys reach the guest and Ctrl-A X quits with 0', () => {
    // script(1) runs traplab on a pseudo-terminal and forwards our pipe to it.
    // The keys are typed once the guest's prompt is on the terminal (a loaded machine may take
    // seconds to start traplab), never after a fixed sleep.
    const cmd = `${process.execPath} ${BIN} run --raw ${echo}@0x100000 --entry 0x100000`;
    const out = join(tmp, 'raw-keys.txt');
    const waitPrompt = `i=0; until grep -q 'ready>' ${out} 2>/dev/null || [ $i -ge 600 ]; do sleep 0.1; i=$((i+1)); done; sleep 0.3`;
    const r = spawnSync(
      'sh',
      [
        '-c',
        `(${waitPrompt}; printf 'a\\003b'; sleep 1; printf '\\001x') | script -qfec "${cmd}" /dev/null > ${out}`,
      ],
      {
        cwd: tmp,
        encoding: 'latin1',
        timeout: 90_000,
      },
    );
    const stdout = readFileSync(out, 'latin1');
    expect(stdout).toContain('ready> a\x03b'); // Ctrl-C went to the guest, not to traplab
    expect(stdout).toContain('traplab: terminated (Ctrl-A X)');
    expect(r.status).toBe(0);
  });

  it('ends quietly with 141 when the reader of stdout goes away', async () => {
    const child = spawn(process.execPath, [BIN, 'run', '--raw', `${echo}@0x100000`, '--entry', '0x100000'], {
      cwd: tmp,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let err = '';
    child.stderr.on('data', (d) => {
      err += d;
    });
    child.stdout.once('data', () => {
      child.stdout.destroy();
      child.stdin.write('more output after the reader left');
    });
    const code = await new Promise<number | null>((res) => child.on('exit', (c) => res(c)));
    expect(code).toBe(141);
    expect(err).toBe('');
  });

  it('wakes an idle guest with scripted input even when stdin is closed', () => {
    const r = traplab([
      'run',
      '--raw',
      `${irqEcho}@0x100000`,
      '--entry',
      '0x100000',
      '--wait-for',
      'ready',
      '--send',
      'hello',
      '--wait-for',
      'lo',
      '--send',
      'q',
    ]);
    expect(r.stdout).toBe('irq-readyhello');
    expect(r.status).toBe((0x11 << 1) | 1);
    // With nothing more to send and stdin at EOF, an idle guest ends the run (status 0).
    const idle = traplab(['run', '--raw', `${irqEcho}@0x100000`, '--entry', '0x100000'], 'ab');
    expect(idle.stdout).toBe('irq-readyab');
    expect(idle.stderr).toMatch(/the guest halted and nothing can wake it/);
    expect(idle.status).toBe(0);
  });

  it('streams a real trap log with --trace under trap-and-emulate, the same on every run', () => {
    const args = (f: string) => [
      'run',
      '--guest',
      'hello',
      '--technique',
      'trap-and-emulate',
      '--trace',
      f,
      '--stats',
    ];
    const a = traplab(args('a.jsonl'));
    expect(a.stdout).toBe('Hello from TrapLab! This guest runs in 32-bit protected mode.\r\n');
    expect(a.status).toBe(1);
    const lines = readFileSync(join(tmp, 'a.jsonl'), 'utf8').trim().split('\n');
    const recs = lines.map((l) => JSON.parse(l));
    expect(recs.map((r) => r.seq)).toEqual(recs.map((_, i) => i));
    const io = recs.filter((r) => r.kindName === 'port I/O');
    // hello polls the LSR (IN 0x3FD) and writes each byte (OUT 0x3F8), then OUT 0xF4.
    expect(io.some((r) => r.details.port === 0x3fd && r.details.direction === 'in')).toBe(true);
    const out = io.filter((r) => r.details.port === 0x3f8 && r.details.direction === 'out');
    expect(String.fromCharCode(...out.map((r) => r.details.value))).toBe(
      'Hello from TrapLab! This guest runs in 32-bit protected mode.\r\n',
    );
    expect(io.at(-1)).toMatchObject({ details: { port: 0xf4, value: 0 }, disasm: 'out dx, al' });
    const m = /^traps\s+(\d+)$/m.exec(a.stderr);
    expect(Number(m?.[1])).toBe(recs.length);
    traplab(args('b.jsonl'));
    expect(readFileSync(join(tmp, 'b.jsonl'), 'utf8')).toBe(readFileSync(join(tmp, 'a.jsonl'), 'utf8'));
  });

  it('prefixes each VM console with --vms', () => {
    const r = traplab(['run', '--guest', 'hello', '--technique', 'trap-and-emulate', '--vms', '3']);
    expect(r.stderr).toBe(''); // hello is meant for trap-and-emulate: no note
    const lines = r.stdout.split('\n').filter(Boolean).sort();
    expect(lines).toEqual(
      [0, 1, 2].map((v) => `[vm${v}] Hello from TrapLab! This guest runs in 32-bit protected mode.\r`),
    );
    expect(r.status).toBe(1);
  });

  it('notes when a manifest guest is run under a technique it is not meant for', () => {
    const r = traplab([
      'run',
      '--guest',
      'linux',
      '--technique',
      'trap-and-emulate',
      '--serial',
      'none',
      '--max-instructions',
      '1000',
    ]);
    expect(r.stderr).toMatch(
      /^traplab: note: guest 'linux' is meant for native, binary-translation, hardware-assisted; trying trap-and-emulate anyway$/m,
    );
    expect(r.status).toBe(124);
  });
});

describe('start-up: the prebuilt bundle', () => {
  it('runs the bundled CLI (rebuilt when stale) with the same output and status as the tsx sources', () => {
    const fast = traplab(['run', '--guest', 'hello']);
    const slow = spawnSync(process.execPath, [BIN, 'run', '--guest', 'hello'], {
      cwd: tmp,
      encoding: 'latin1',
      input: '',
      timeout: 60_000,
      env: { ...process.env, TRAPLAB_DEBUG: '', TRAPLAB_TSX: '1' },
    });
    expect(fast.stdout).toContain('Hello from TrapLab');
    expect(fast.stdout).toBe(slow.stdout);
    expect(fast.status).toBe(slow.status);
    const bundle = join(ROOT, 'build', 'cli', 'main.cjs');
    expect(readFileSync(bundle, 'latin1')).toMatch(/^\/\/ Generated by scripts\/build-cli\.mjs/);
  });
});
