import { describe, expect, it } from 'vitest';
import { parseAddress, parseCommand, parseCount, parseRunArgs, UsageError, unescapeText } from './args.ts';

const run = (...a: string[]) => parseRunArgs(a);
const bad = (a: string[], msg: RegExp) => {
  expect(() => parseRunArgs(a)).toThrow(UsageError);
  expect(() => parseRunArgs(a)).toThrow(msg);
};

describe('traplab run arguments', () => {
  it('has the documented defaults', () => {
    expect(run('--guest', 'hello')).toEqual({
      guest: { kind: 'guest', id: 'hello' },
      technique: 'native',
      vms: 1,
      memMiB: 64,
      serial: { kind: 'stdio' },
      script: [],
      debugcon: { kind: 'none' },
      postLog: null,
      trace: null,
      stats: false,
      maxInstructions: null,
      noReboot: false,
      hosting: 'type1',
      hostSend: null,
      hostSerial: { kind: 'none' },
    });
  });

  it('takes --hosting type1|type2|both and the host console flags with a hosted arrangement only', () => {
    const o = run(
      'trapdemo',
      '--technique',
      'trap-and-emulate',
      '--hosting',
      'both',
      '--host-send',
      'ps\\n',
      '--host-serial=stderr',
    );
    expect(o.hosting).toBe('both');
    expect(o.hostSend).toBe('ps\n');
    expect(o.hostSerial).toEqual({ kind: 'stderr' });
    expect(run('trapdemo', '--technique', 'trap-and-emulate', '--hosting=type2').hosting).toBe('type2');
    expect(() => run('trapdemo', '--technique', 'trap-and-emulate', '--hosting', 'type3')).toThrow(
      /type1, type2 or both/,
    );
    expect(() => run('trapdemo', '--hosting', 'type2')).toThrow(/needs a hypervisor --technique/);
    expect(() => run('trapdemo', '--technique', 'trap-and-emulate', '--host-send', 'ps')).toThrow(
      /need --hosting type2 or both/,
    );
  });

  it('accepts pv as the short name of paravirtual', () => {
    expect(run('--guest', 'minikernel-pv', '--technique', 'pv').technique).toBe('paravirtual');
    expect(run('--guest', 'minikernel-pv', '--technique=paravirtual').technique).toBe('paravirtual');
  });

  it('parses every flag, in both --flag value and --flag=value forms', () => {
    const o = run(
      '--kernel',
      'bz',
      '--initrd=rd.cpio',
      '--append',
      'console=ttyS0 quiet',
      '--technique=trap-and-emulate',
      '--vms',
      '4',
      '--mem=128',
      '--serial',
      'file:out.txt',
      '--debugcon',
      'stderr',
      '--post-log',
      'post.txt',
      '--trace=t.jsonl',
      '--stats',
      '--max-instructions',
      '500M',
      '--no-reboot',
    );
    expect(o).toMatchObject({
      guest: { kind: 'kernel', kernel: 'bz', initrd: 'rd.cpio', append: 'console=ttyS0 quiet' },
      technique: 'trap-and-emulate',
      vms: 4,
      memMiB: 128,
      serial: { kind: 'file', path: 'out.txt' },
      debugcon: { kind: 'stderr' },
      postLog: 'post.txt',
      trace: 't.jsonl',
      stats: true,
      maxInstructions: 500_000_000,
      noReboot: true,
    });
  });

  it('knows vtx as hardware-assisted and takes --paging for it only', () => {
    expect(run('--guest', 'linux', '--technique', 'vtx').technique).toBe('hardware-assisted');
    expect(run('--guest', 'linux', '--technique', 'vtx', '--paging', 'shadow').paging).toBe('shadow');
    expect(run('--guest', 'linux', '--technique', 'hardware-assisted').paging).toBeUndefined();
    bad(['--guest', 'linux', '--technique', 'vtx', '--paging', 'nested'], /--paging must be ept or shadow/);
    bad(['--guest', 'linux', '--paging', 'ept'], /--paging applies to --technique hardware-assisted/);
    expect(run('--guest', 'linux', '--technique', 'vtx', '--until-exit', '30').untilExit).toBe(30);
    expect(run('--guest', 'linux', '--technique', 'vtx').untilExit).toBeUndefined();
    bad(['--guest', 'linux', '--until-exit', '30'], /--until-exit applies to --technique hardware-assisted/);
    bad(['--guest', 'linux', '--technique', 'vtx', '--until-exit', 'io'], /basic exit reason number/);
    bad(['--guest', 'linux', '--technique', 'vtx', '--until-exit', '70000'], /basic exit reason number/);
  });

  it('parses the other guest sources', () => {
    expect(run('--bios', 'rom.bin').guest).toEqual({ kind: 'bios', bios: 'rom.bin' });
    expect(run('--raw', 'img@0x7c00', '--entry', '0x7c00').guest).toEqual({
      kind: 'raw',
      raw: 'img',
      addr: 0x7c00,
      entry: 0x7c00,
    });
    expect(run('--raw', 'a@b.bin@1048576', '--entry', '100010h').guest).toEqual({
      kind: 'raw',
      raw: 'a@b.bin',
      addr: 0x100000,
      entry: 0x100010,
    });
    expect(run('--guest', 'linux', '--append', 'quiet').guest).toEqual({
      kind: 'guest',
      id: 'linux',
      append: 'quiet',
    });
  });

  it('pairs --wait-for with --send in order and understands escapes', () => {
    const o = run(
      '--guest',
      'k',
      '--send',
      'boot\\n',
      '--wait-for',
      '$ ',
      '--send',
      'ls\\r',
      '--wait-for',
      'x\\x41',
      '--send',
      '\\e[A',
    );
    expect(o.script).toEqual([
      { waitFor: null, send: 'boot\n' },
      { waitFor: '$ ', send: 'ls\r' },
      { waitFor: 'xA', send: '\x1b[A' },
    ]);
  });

  it('takes a positional GUEST as --guest ID, or as --kernel FILE when it is a path', () => {
    expect(run('linux', '--technique', 'native')).toEqual(run('--guest', 'linux', '--technique', 'native'));
    expect(run('--stats', 'hello').guest).toEqual({ kind: 'guest', id: 'hello' });
    expect(run('./my.elf', '--append', 'quiet').guest).toEqual({
      kind: 'kernel',
      kernel: './my.elf',
      append: 'quiet',
    });
    expect(parseCommand(['run', 'hello'])).toEqual({ command: 'run', options: run('--guest', 'hello') });
  });

  it('rejects every malformed command line with a clear message', () => {
    bad([], /no guest/);
    bad(['--guest', 'a', '--kernel', 'k'], /one guest source/);
    bad(['--guest'], /--guest needs a value/);
    bad(['--guest', 'hello', '--frobnicate'], /unknown option '--frobnicate'/);
    bad(['hello', 'extra'], /unexpected argument 'extra' \(one GUEST only\)/);
    bad(['--guest', 'hello', 'extra'], /--guest given twice \(as GUEST 'extra'/);
    bad(['./k.elf', '--kernel', 'k'], /--kernel given twice/);
    bad(['hello', '--kernel', 'k'], /one guest source/);
    bad(['--guest', 'hello', '--guest', 'x'], /--guest given twice/);
    bad(['--guest', 'a b'], /bad guest id/);
    bad(['--kernel', ''], /needs a file name/);
    bad(['--guest', 'x', '--initrd', 'i'], /--initrd needs --kernel/);
    bad(['--bios', 'b', '--append', 'x'], /--append needs --kernel/);
    bad(['--guest', 'x', '--entry', '0'], /--entry needs --raw/);
    bad(['--raw', 'img'], /FILE@ADDR/);
    bad(['--raw', 'img@'], /FILE@ADDR/);
    bad(['--raw', 'img@zz', '--entry', '0'], /not a 32-bit address/);
    bad(['--raw', 'img@0x100000'], /--raw needs --entry/);
    bad(['--raw', 'img@0x1000', '--entry', '0x100000000'], /not a 32-bit address/);
    bad(
      ['--guest', 'x', '--technique', 'magic'],
      /unknown technique 'magic' \(one of: native, trap-and-emulate/,
    );
    bad(['--guest', 'x', '--vms', '0'], /--vms must be between 1 and 16/);
    bad(['--guest', 'x', '--vms', 'two'], /--vms needs a whole number/);
    bad(['--guest', 'x', '--mem', '-5'], /--mem needs a whole number/);
    bad(['--guest', 'x', '--mem', '99999'], /--mem must be between/);
    bad(['--guest', 'x', '--mem', '2049'], /--mem must be between 1 and 2048/);
    bad(['--guest', 'x', '--mem', '1k'], /--mem needs a whole number, got '1k'/);
    bad(['--guest', 'x', '--mem', ' 64'], /--mem needs a whole number, got ' 64'/);
    bad(['--guest', 'x', '--max-instructions', '1__0'], /--max-instructions needs a whole number/);
    bad(['--guest', 'x', '--max-instructions', '1.5'], /whole number/);
    bad(['--guest', 'x', '--serial', 'tcp:1234'], /--serial must be stdio, none, file:PATH/);
    bad(['--guest', 'x', '--serial', 'file:'], /needs a path/);
    bad(['--guest', 'x', '--debugcon', 'none2'], /--debugcon must be stdio, stderr, none, file:PATH/);
    bad(['--guest', 'x', '--wait-for', 'login:'], /must be followed by a --send/);
    bad(
      ['--guest', 'x', '--wait-for', 'a', '--wait-for', 'b', '--send', 'c'],
      /must be followed by a --send/,
    );
    bad(['--guest', 'x', '--wait-for', '', '--send', 'c'], /non-empty/);
    bad(['--guest', 'x', '--send', 'a\\q'], /unknown escape/);
    bad(['--guest', 'x', '--send', 'a\\'], /trailing backslash/);
    bad(['--guest', 'x', '--send', '\\x4'], /two hex digits/);
    bad(['--guest', 'x', '--send', 'é€'], /not a byte/);
    bad(['--guest', 'x', '--stats=yes'], /takes no value/);
  });
});

describe('traplab commands', () => {
  it('dispatches help, list, version and run', () => {
    expect(parseCommand([])).toEqual({ command: 'help', topic: 'main' });
    expect(parseCommand(['--help'])).toEqual({ command: 'help', topic: 'main' });
    expect(parseCommand(['run', '--help'])).toEqual({ command: 'help', topic: 'run' });
    expect(parseCommand(['run', '--guest', 'x', '-h'])).toEqual({ command: 'help', topic: 'run' });
    expect(parseCommand(['help', 'run'])).toEqual({ command: 'help', topic: 'run' });
    expect(parseCommand(['list'])).toEqual({ command: 'list', json: false });
    expect(parseCommand(['list', '--json'])).toEqual({ command: 'list', json: true });
    expect(parseCommand(['--version'])).toEqual({ command: 'version' });
    expect(parseCommand(['run', '--guest', 'hello'])).toMatchObject({
      command: 'run',
      options: { guest: { id: 'hello' } },
    });
    expect(() => parseCommand(['start'])).toThrow(/unknown command 'start'/);
    expect(() => parseCommand(['--guest', 'x'])).toThrow(/unknown option '--guest'/);
    expect(() => parseCommand(['list', '--all'])).toThrow(/unknown option '--all'/);
  });

  it('parses numbers and escapes', () => {
    expect(parseAddress('0xFFFFFFF0', 'a')).toBe(0xfffffff0);
    expect(parseAddress('1_048_576', 'a')).toBe(0x100000);
    expect(parseCount('10k', 'n', 1, 1e12, true)).toBe(10_000);
    expect(parseCount('2G', 'n', 1, 1e12, true)).toBe(2e9);
    expect(parseCount('1_000', 'n', 1, 1e12)).toBe(1000);
    // Only the documented forms (issue 16): no suffix on sizes, no stray spaces or underscores.
    for (const v of ['1k', ' 64', '64 ', '1__0', '_10', '10_', '1_k', '0x10', '1e3', '']) {
      expect(() => parseCount(v, '--mem', 1, 2048), v).toThrow(/--mem needs a whole number, got/);
    }
    for (const v of ['1__0', ' 10', '10k ', '1kk', '10_k_']) {
      expect(() => parseCount(v, '--max-instructions', 1, 1e12, true), v).toThrow(/needs a whole number/);
    }
    expect(unescapeText('a\\tb\\\\c\\0', 'f')).toBe('a\tb\\c\0');
  });
});
