/**
 * One machine of the compare page: the playground's emulator worker (src/worker/worker.ts) driven
 * through its typed protocol. The playground's own client (../emulator.ts) feeds the one global
 * store; here each machine keeps its counters to itself and reports them through callbacks.
 */
import type { FromWorker, StatusView, TechniqueId, ToWorker } from '../../worker/protocol.ts';

export interface MachineCounters {
  instructions: number;
  virtualTimeNs: number;
  traps: number;
  trapsByKind: number[];
  /** Modelled cycles of the trap records (sent with the worker's register frames). */
  cycles: number;
}

export interface MachineEvents {
  serial(text: string): void;
  frame(c: MachineCounters, status: StatusView): void;
  loaded(kindNames: string[]): void;
  error(message: string): void;
}

export class CompareMachine {
  private readonly worker: Worker;
  private readonly decoder = new TextDecoder();
  private cycles = 0;
  constructor(
    readonly technique: TechniqueId,
    private readonly on: MachineEvents,
  ) {
    this.worker = new Worker(new URL('../../worker/worker.ts', import.meta.url), { type: 'module' });
    this.worker.onmessage = (e: MessageEvent<FromWorker>) => this.receive(e.data);
    this.worker.onerror = (e) => {
      e.preventDefault();
      on.error(e.message || 'the emulator worker failed');
    };
  }

  private send(m: ToWorker): void {
    this.worker.postMessage(m);
  }

  load(guestId: string): void {
    this.cycles = 0;
    this.send({
      type: 'load',
      scenario: { guest: { kind: 'builtin', id: guestId }, technique: this.technique, vms: 1 },
    });
  }
  run(): void {
    this.send({ type: 'run' });
  }
  pause(): void {
    this.send({ type: 'pause' });
  }
  type(bytes: Uint8Array): void {
    this.send({ type: 'serialInput', vm: 0, bytes: bytes.slice() });
  }
  dispose(): void {
    this.worker.terminate();
  }

  private receive(m: FromWorker): void {
    switch (m.type) {
      case 'loaded':
        this.on.loaded(m.info.names.kinds);
        return;
      case 'frame': {
        for (const s of m.serial)
          if (s.vm === 0) this.on.serial(this.decoder.decode(s.bytes, { stream: true }));
        if (m.vms) this.cycles = m.vms.reduce((sum, v) => sum + v.cycles, 0);
        this.on.frame(
          {
            instructions: m.stats.instructions,
            virtualTimeNs: m.stats.virtualTimeNs,
            traps: m.stats.trapTotal,
            trapsByKind: m.stats.trapsByKind,
            cycles: this.cycles,
          },
          m.status,
        );
        return;
      }
      case 'error':
        this.on.error(m.message);
        return;
      default:
        return;
    }
  }
}
