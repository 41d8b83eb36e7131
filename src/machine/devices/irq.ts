/**
 * An interrupt request wire from a device to an interrupt controller input. The device drives the
 * level; an edge-triggered 8259A input latches a request on the low→high transition.
 */
export type IrqLine = (level: boolean) => void;

/** A line connected to nothing. */
export const unconnectedIrq: IrqLine = () => {};
