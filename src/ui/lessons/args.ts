/**
 * The one small syntax every declarative line of a lesson uses: a word, then `key=value` pairs,
 * values bare or in double quotes (inside quotes `\"` is a quote; every other backslash stays, so a
 * regular expression is written as is). For example
 *   selectedRecord kind="port I/O" mnemonic="^out"
 *   guest=trapdemo technique=trap-and-emulate vms=1
 */

export interface ArgLine {
  /** The leading word (absent when the line starts with a `key=value`). */
  name: string;
  args: Map<string, string>;
}

export class LessonSyntaxError extends Error {}

/** Split `line` into its leading word and its `key=value` pairs; throws LessonSyntaxError. */
export function parseArgLine(line: string, withName: boolean): ArgLine {
  let i = 0;
  const s = line.trim();
  const skipWs = () => {
    while (i < s.length && /\s/.test(s[i])) i++;
  };
  let name = '';
  if (withName) {
    const m = /^[A-Za-z][\w-]*/.exec(s);
    if (!m) throw new LessonSyntaxError(`expected a word at the start of "${s}"`);
    name = m[0];
    i = name.length;
  }
  const args = new Map<string, string>();
  for (;;) {
    skipWs();
    if (i >= s.length) break;
    const km = /^[A-Za-z][\w.-]*/.exec(s.slice(i));
    if (!km) throw new LessonSyntaxError(`expected key=value at "${s.slice(i)}"`);
    const key = km[0];
    i += key.length;
    if (s[i] !== '=') throw new LessonSyntaxError(`"${key}" needs a value: write ${key}=…`);
    i++;
    let value = '';
    if (s[i] === '"') {
      i++;
      let closed = false;
      while (i < s.length) {
        const c = s[i++];
        if (c === '\\' && s[i] === '"') value += s[i++];
        else if (c === '"') {
          closed = true;
          break;
        } else value += c;
      }
      if (!closed) throw new LessonSyntaxError(`the quoted value of "${key}" is not closed`);
    } else {
      const start = i;
      while (i < s.length && !/\s/.test(s[i])) i++;
      value = s.slice(start, i);
      if (value === '') throw new LessonSyntaxError(`"${key}=" has an empty value`);
    }
    if (args.has(key)) throw new LessonSyntaxError(`"${key}" is given twice`);
    args.set(key, value);
  }
  return { name, args };
}

/** Reads typed arguments off an ArgLine and refuses any key nobody asked for. */
export class Args {
  private readonly used = new Set<string>();
  constructor(
    readonly line: ArgLine,
    private readonly what: string,
  ) {}

  opt(key: string): string | undefined {
    this.used.add(key);
    return this.line.args.get(key);
  }

  req(key: string): string {
    const v = this.opt(key);
    if (v === undefined) throw new LessonSyntaxError(`${this.what} needs ${key}=…`);
    return v;
  }

  num(key: string): number | undefined {
    const v = this.opt(key);
    if (v === undefined) return undefined;
    const n = parseNumber(v);
    if (n === null) throw new LessonSyntaxError(`${this.what}: ${key}=${v} is not a number`);
    return n;
  }

  regex(key: string): RegExp | undefined {
    const v = this.opt(key);
    if (v === undefined) return undefined;
    try {
      return new RegExp(v, 'm');
    } catch (e) {
      throw new LessonSyntaxError(
        `${this.what}: ${key}="${v}" is not a valid regular expression (${(e as Error).message})`,
      );
    }
  }

  /** Call last: an unknown key is a typo the teacher should hear about. */
  done(): void {
    for (const k of this.line.args.keys()) {
      if (!this.used.has(k)) {
        throw new LessonSyntaxError(
          `${this.what} has no "${k}" (it takes ${[...this.used].join(', ') || 'nothing'})`,
        );
      }
    }
  }
}

/** Decimal or 0x-hex integer (underscores and commas allowed as separators), else null. */
export function parseNumber(v: string): number | null {
  const t = v.trim().replace(/[_,]/g, '');
  if (/^-?\d+(\.\d+)?$/.test(t)) return Number(t);
  if (/^0x[0-9a-f]+$/i.test(t)) return Number.parseInt(t.slice(2), 16);
  return null;
}
