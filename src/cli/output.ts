/**
 * Where the CLI's byte streams go: stdout, stderr, a file, or nowhere. A file that cannot be
 * opened is a bad argument (UsageError, 64); one that fails later — disk full, an I/O error, a
 * file that refuses writes — is the user's environment: OutputError, a one-line message and
 * status 74 (EX_IOERR), never "internal error".
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import type { TrapLogReader } from '../hypervisor/vmm/trap-log.ts';
import { type Sink, UsageError } from './args.ts';
import { errorText } from './manifest.ts';

export interface ByteSink {
  write(bytes: Uint8Array): void;
  close(): void;
}

const discard: ByteSink = { write() {}, close() {} };

/** Writing an output failed after it was opened (ENOSPC, EIO, EROFS…): exit status 74. */
export class OutputError extends Error {
  override name = 'OutputError';
}

/** An output file opened for writing: every byte written, or an OutputError naming it. */
export class OutputFile {
  constructor(
    readonly fd: number,
    private readonly path: string,
    private readonly flag: string,
  ) {}
  write(data: Uint8Array | string): void {
    const b = typeof data === 'string' ? Buffer.from(data, 'latin1') : data;
    try {
      // writeSync may write less than asked (a pipe, a nearly full disk): loop until all is out.
      for (let o = 0; o < b.length; ) o += writeSync(this.fd, b, o, b.length - o);
    } catch (e) {
      throw this.failed(e);
    }
  }
  close(): void {
    try {
      closeSync(this.fd);
    } catch (e) {
      throw this.failed(e);
    }
  }
  private failed(e: unknown): OutputError {
    return new OutputError(`${this.flag}: cannot write '${this.path}': ${errorText(e)}`);
  }
}

export function openSink(s: Sink, flag: string): ByteSink {
  switch (s.kind) {
    case 'none':
      return discard;
    case 'stdio':
      return { write: (b) => void process.stdout.write(b), close() {} };
    case 'stderr':
      return { write: (b) => void process.stderr.write(b), close() {} };
    case 'file': {
      const f = openFile(s.path, flag);
      return {
        write: (b) => {
          if (b.length > 0) f.write(b);
        },
        close: () => f.close(),
      };
    }
  }
}

export function openFile(path: string, flag: string): OutputFile {
  try {
    return new OutputFile(openSync(path, 'w'), path, flag);
  } catch (e) {
    throw new UsageError(`${flag}: cannot write '${path}': ${errorText(e)}`);
  }
}

export function bytesOf(text: string): Uint8Array {
  const b = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) b[i] = text.charCodeAt(i) & 0xff;
  return b;
}

/**
 * Several VMs share one terminal: each line is prefixed "[vmN] ", and when another VM starts
 * writing while the previous one is mid-line, that line is ended first so outputs never mix.
 */
export class VmPrefixer {
  private lastVm = -1;
  private atLineStart = true;
  constructor(private readonly sink: ByteSink) {}
  write(vm: number, bytes: Uint8Array): void {
    if (bytes.length === 0) return;
    const out: number[] = [];
    if (vm !== this.lastVm && !this.atLineStart) {
      out.push(0x0a);
      this.atLineStart = true;
    }
    this.lastVm = vm;
    const prefix = bytesOf(`[vm${vm}] `);
    for (const b of bytes) {
      if (this.atLineStart) out.push(...prefix);
      out.push(b);
      this.atLineStart = b === 0x0a;
    }
    this.sink.write(Uint8Array.from(out));
  }
}

/**
 * Streams the trap log to `--trace` as JSON Lines while the guest runs: each drain() writes the
 * records appended since the last one. Records the bounded log dropped before they could be
 * written are counted in `lost` (the file then has a gap in its `seq` numbers).
 */
export class TraceStreamer {
  /** Sequence number of the next record to write. */
  private next = 0;
  lost = 0;
  constructor(
    private readonly log: TrapLogReader,
    private readonly write: (chunk: string) => void,
  ) {}

  drain(): void {
    const t = this.log;
    const firstHeld = t.total - t.count;
    if (this.next < firstHeld) {
      this.lost += firstHeld - this.next;
      this.next = firstHeld;
    }
    if (this.next < t.total) {
      t.writeJsonLines(this.write, this.next - firstHeld, t.count);
      this.next = t.total;
    }
  }
}
