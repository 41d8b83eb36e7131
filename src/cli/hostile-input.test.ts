/**
 * Inputs and outputs that once took traplab down (issue 16): character devices given as images
 * (read forever while memory grew) and outputs that fail after opening (exit 70, "internal
 * error"). Each must end with one clear line on stderr and a distinct status.
 */
import { spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { nasmFile } from '../session/test-nasm.ts';
import { RUN_HELP } from './help.ts';
import { OutputError, OutputFile } from './output.ts';

const ROOT = resolve(import.meta.dirname, '..', '..');
const BIN = join(ROOT, 'bin', 'traplab.mjs');
const HELLO = join(ROOT, 'guests', 'hello', 'hello.elf');

function traplab(args: string[], stdout: 'pipe' | number = 'pipe') {
  return spawnSync(process.execPath, [BIN, 'run', ...args], {
    encoding: 'latin1',
    timeout: 60_000,
    stdio: ['ignore', stdout, 'pipe'],
    env: { ...process.env, TRAPLAB_DEBUG: '' },
  });
}

function expectOneLine(r: ReturnType<typeof traplab>, status: number, msg: RegExp): void {
  expect(r.stderr).toMatch(msg);
  expect(r.stderr).not.toMatch(/internal error|\n\s+at /);
  expect(r.stderr.trim().split('\n').length).toBe(1);
  expect(r.status).toBe(status);
}

describe('character devices as images', () => {
  for (const [flag, dev] of [
    ['--kernel', '/dev/zero'],
    ['--kernel', '/dev/urandom'],
    ['--initrd', '/dev/zero'],
  ] as const) {
    it(`${flag} ${dev}: reads at most 64 MiB and says so (64)`, () => {
      const args = flag === '--initrd' ? ['--kernel', HELLO, flag, dev] : [flag, dev];
      const what = flag === '--initrd' ? 'initrd' : 'kernel';
      expectOneLine(
        traplab(args),
        64,
        new RegExp(`${what} '${dev}' is not a regular file and gave more than 64 MiB; stopped reading there`),
      );
    }, 60_000);
  }

  it('still reads an image from a pipe (a non-regular file that ends)', () => {
    const r = spawnSync('bash', ['-c', `"${process.execPath}" "${BIN}" run --kernel <(cat "${HELLO}")`], {
      encoding: 'latin1',
      timeout: 60_000,
    });
    expect(r.stdout).toContain('Hello from TrapLab!');
    expect(r.status).toBe(1);
  });
});

// Writes to the debug console and the POST port, prints a line, powers off with status 1.
const CHATTY = `
    mov dx, 0xE9
    mov al, 'd'
    out dx, al
    mov al, 0x42
    out 0x80, al
    mov dx, 0x3F8
    mov al, 'x'
    out dx, al
    mov al, 0
    out 0xF4, al
    hlt
`;

describe.skipIf(!existsSync('/dev/full'))('outputs that fail after opening (ENOSPC on /dev/full)', () => {
  const chatty = nasmFile('chatty', CHATTY);
  const raw = ['--raw', `${chatty}@0x100000`, '--entry', '0x100000'];
  const cases: [string, string[], RegExp][] = [
    [
      '--serial file:',
      [...raw, '--serial', 'file:/dev/full'],
      /^traplab: --serial: cannot write '\/dev\/full': .*no space left on device/,
    ],
    [
      '--debugcon file:',
      [...raw, '--debugcon', 'file:/dev/full'],
      /^traplab: --debugcon: cannot write '\/dev\/full': .*no space/,
    ],
    [
      '--post-log',
      [...raw, '--post-log', '/dev/full'],
      /^traplab: --post-log: cannot write '\/dev\/full': .*no space/,
    ],
    [
      '--trace',
      [...raw, '--technique', 'trap-and-emulate', '--trace', '/dev/full'],
      /^traplab: --trace: cannot write '\/dev\/full': .*no space/,
    ],
  ];
  for (const [name, args, msg] of cases) {
    it(`${name}/dev/full: one line, exit 74`, () => expectOneLine(traplab(args), 74, msg), 60_000);
  }

  it('stdout on /dev/full: one line, exit 74', () => {
    const fd = openSync('/dev/full', 'w');
    try {
      expectOneLine(traplab(raw, fd), 74, /^traplab: stdout: cannot write: .*no space left on device/);
    } finally {
      closeSync(fd);
    }
  }, 60_000);
});

describe('OutputFile', () => {
  it('turns a write the file refuses into an OutputError naming flag and path', () => {
    const dir = mkdtempSync(join(tmpdir(), 'traplab-out-'));
    const path = join(dir, 'ro.txt');
    writeFileSync(path, '');
    const fd = openSync(path, 'r'); // a descriptor that refuses writes (EBADF), as a read-only file would
    const f = new OutputFile(fd, path, '--trace');
    expect(() => f.write('x')).toThrow(OutputError);
    expect(() => f.write('x')).toThrow(`--trace: cannot write '${path}'`);
    f.close();
  });

  it('is listed in --help as exit status 74', () => {
    expect(RUN_HELP).toMatch(/^ {2}74 +an output could not be written/m);
  });
});
