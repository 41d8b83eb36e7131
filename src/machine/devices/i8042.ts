/**
 * Intel 8042 keyboard controller as a PC/AT wires it: data port 0x60, status/command port 0x64,
 * IRQ 1 (keyboard) and IRQ 12 (aux), and two lines of its output port that matter to an OS: bit 0
 * resets the CPU, bit 1 gates A20. Enough for Linux's i8042 driver and for A20/reset code:
 *
 * - Commands: 0x20–0x3F read RAM (0x20 = command byte), 0x60–0x7F write RAM, 0xA7/0xA8 disable/
 *   enable aux, 0xA9 aux interface test (0x00), 0xAA self-test (0x55), 0xAB keyboard interface test
 *   (0x00), 0xAD/0xAE disable/enable keyboard, 0xC0 read input port, 0xD0 read output port, 0xD1
 *   write output port, 0xD2/0xD3 write keyboard/aux output buffer, 0xD4 write to aux (no mouse is
 *   attached: the byte is dropped and a timeout reported), 0xDD/0xDF A20 off/on, 0xF0–0xFF pulse
 *   output lines (bit 0 clear ⇒ reset pulse: 0xFE).
 * - A keyboard is attached and answers the basic device commands (reset 0xFF → FA AA, identify,
 *   enable/disable scanning, LEDs, scan-code set, typematic, echo). It never sends key presses.
 * - Status: OBF, IBF (always 0: commands complete instantly), system flag, command/data, keyboard
 *   not inhibited, aux OBF, timeout.
 */
import type { IoPortBus, PortHandler } from '../io-bus.ts';
import type { IrqLine } from './irq.ts';

export interface I8042Options {
  irq1: IrqLine;
  irq12: IrqLine;
  getA20(): boolean;
  setA20(enabled: boolean): void;
  /** The output port's reset line was pulsed (command 0xFE, or 0xD1 with bit 0 clear). */
  onReset(): void;
}

const ST_OBF = 0x01;
const ST_SYS = 0x04;
const ST_CMD = 0x08;
const ST_UNLOCKED = 0x10;
const ST_AUX_OBF = 0x20;
const ST_TIMEOUT = 0x40;

export class I8042 implements PortHandler {
  /** Command byte (RAM[0]) and the rest of the controller RAM. */
  readonly ramBytes = new Uint8Array(32);
  private status = ST_UNLOCKED;
  /** Output buffer queue: [byte, fromAux]. */
  private readonly out: { byte: number; aux: boolean }[] = [];
  /** Command awaiting its data byte on port 0x60. */
  private pendingCommand = -1;
  /** Keyboard device command awaiting its parameter byte. */
  private kbdPending = -1;
  private irq1Level = false;
  private irq12Level = false;
  resetRequests = 0;

  constructor(private readonly options: I8042Options) {
    this.reset();
  }

  attach(io: IoPortBus): void {
    io.register(0x60, 1, this, 'i8042-data');
    io.register(0x64, 1, this, 'i8042-cmd');
  }

  reset(): void {
    this.ramBytes.fill(0);
    this.ramBytes[0] = 0x45; // keyboard IRQ on, system flag, translation — as a BIOS leaves it
    this.status = ST_UNLOCKED | ST_SYS;
    this.out.length = 0;
    this.pendingCommand = -1;
    this.kbdPending = -1;
    this.updateIrq();
  }

  private get commandByte(): number {
    return this.ramBytes[0];
  }

  private push(byte: number, aux = false): void {
    this.out.push({ byte: byte & 0xff, aux });
    this.updateIrq();
  }

  private updateIrq(): void {
    const head = this.out[0];
    this.status &= ~(ST_OBF | ST_AUX_OBF);
    if (head) this.status |= ST_OBF | (head.aux ? ST_AUX_OBF : 0);
    const k = !!head && !head.aux && (this.commandByte & 0x01) !== 0;
    const a = !!head && head.aux && (this.commandByte & 0x02) !== 0;
    if (k !== this.irq1Level) {
      this.irq1Level = k;
      this.options.irq1(k);
    }
    if (a !== this.irq12Level) {
      this.irq12Level = a;
      this.options.irq12(a);
    }
  }

  /** Plain-data view (no side effects). */
  snapshot(): { status: number; commandByte: number; outputQueue: number; resetRequests: number } {
    return {
      status: this.status,
      commandByte: this.commandByte,
      outputQueue: this.out.length,
      resetRequests: this.resetRequests,
    };
  }

  /** Output port: bit 0 reset (1 = run), bit 1 A20, bit 4 OBF/IRQ1, bit 5 aux OBF/IRQ12. */
  private outputPort(): number {
    const head = this.out[0];
    return (
      0x01 |
      (this.options.getA20() ? 0x02 : 0) |
      (head && !head.aux ? 0x10 : 0) |
      (head?.aux ? 0x20 : 0) |
      0xc0 // keyboard clock/data lines idle high
    );
  }

  private writeOutputPort(v: number): void {
    this.options.setA20((v & 0x02) !== 0);
    if ((v & 0x01) === 0) this.requestReset();
  }

  private requestReset(): void {
    this.resetRequests++;
    this.options.onReset();
  }

  read8(port: number): number {
    if (port === 0x64) return this.status;
    const head = this.out.shift();
    this.status &= ~ST_TIMEOUT;
    this.updateIrq();
    return head ? head.byte : 0;
  }

  write8(port: number, value: number): void {
    if (port === 0x64) {
      this.status |= ST_CMD;
      this.command(value);
      return;
    }
    this.status &= ~ST_CMD;
    const cmd = this.pendingCommand;
    this.pendingCommand = -1;
    if (cmd >= 0x60 && cmd <= 0x7f) {
      this.ramBytes[cmd - 0x60] = value;
      if (cmd === 0x60) {
        this.status = (this.status & ~ST_SYS) | (value & ST_SYS);
        this.updateIrq();
      }
      return;
    }
    switch (cmd) {
      case 0xd1:
        this.writeOutputPort(value);
        return;
      case 0xd2:
        this.push(value, false);
        return;
      case 0xd3:
        this.push(value, true);
        return;
      case 0xd4:
        this.status |= ST_TIMEOUT; // no aux device answers
        return;
      default:
        this.keyboardCommand(value);
    }
  }

  private command(cmd: number): void {
    if (cmd >= 0x20 && cmd <= 0x3f) {
      this.push(this.ramBytes[cmd - 0x20]);
      return;
    }
    if ((cmd >= 0x60 && cmd <= 0x7f) || cmd === 0xd1 || cmd === 0xd2 || cmd === 0xd3 || cmd === 0xd4) {
      this.pendingCommand = cmd;
      return;
    }
    if (cmd >= 0xf0) {
      // Pulse output port bits 0–3 low for 6 µs where the command's bit is 0: bit 0 = reset.
      if ((cmd & 0x01) === 0) this.requestReset();
      return;
    }
    switch (cmd) {
      case 0xa7:
        this.ramBytes[0] |= 0x20;
        break;
      case 0xa8:
        this.ramBytes[0] &= ~0x20;
        break;
      case 0xa9:
        this.push(0x00);
        break;
      case 0xaa:
        this.status |= ST_SYS;
        this.ramBytes[0] |= ST_SYS;
        this.push(0x55);
        break;
      case 0xab:
        this.push(0x00);
        break;
      case 0xad:
        this.ramBytes[0] |= 0x10;
        break;
      case 0xae:
        this.ramBytes[0] &= ~0x10;
        break;
      case 0xc0:
        this.push(0xa0); // keyboard not inhibited, 256K+ system board RAM... (conventional value)
        break;
      case 0xd0:
        this.push(this.outputPort());
        break;
      case 0xdd:
        this.options.setA20(false);
        break;
      case 0xdf:
        this.options.setA20(true);
        break;
      default:
        break; // unknown commands are ignored
    }
    this.updateIrq();
  }

  /** A byte for the keyboard itself (port 0x60 with no controller command pending). */
  private keyboardCommand(v: number): void {
    if (this.kbdPending >= 0) {
      this.kbdPending = -1;
      this.push(0xfa); // parameter accepted
      return;
    }
    switch (v) {
      case 0xff: // reset: ACK, then BAT passed
        this.push(0xfa);
        this.push(0xaa);
        return;
      case 0xf2: // identify: MF2 keyboard
        this.push(0xfa);
        this.push(0xab);
        this.push(0x83);
        return;
      case 0xee: // echo
        this.push(0xee);
        return;
      case 0xed: // set LEDs
      case 0xf0: // scan code set
      case 0xf3: // typematic rate
        this.kbdPending = v;
        this.push(0xfa);
        return;
      default:
        this.push(0xfa);
    }
  }
}
