/** Exit statuses of `traplab` (issue 4, "Exit status"); the guest's own is (V << 1) | 1. */
export const EXIT_OK = 0;
export const EXIT_TRIPLE_FAULT = 2;
/**
 * A VM hung under a hypervisor: HLT with its virtual IF = 0, e.g. minikernel under trap-and-emulate
 * after a POPF lost its IF change (the session sets it; even, so never a guest's (V << 1) | 1).
 */
export const EXIT_HUNG = 4;
/** The hypervisor stopped a VM that did something it does not virtualize (set by the session). */
export const EXIT_UNSUPPORTED = 6;
/** EX_USAGE (sysexits.h): bad arguments or a bad guest image. */
export const EXIT_USAGE = 64;
/** EX_IOERR: an output (--serial/--debugcon file, --trace, --post-log, stdout) failed to write. */
export const EXIT_IOERR = 74;
/** EX_SOFTWARE: a bug in traplab itself. */
export const EXIT_SOFTWARE = 70;
/** As timeout(1): --max-instructions reached. */
export const EXIT_TIMEOUT = 124;
export const EXIT_SIGINT = 130;
export const EXIT_SIGTERM = 143;
/** stdout was a pipe whose reader went away (as a process killed by SIGPIPE). */
export const EXIT_SIGPIPE = 141;
