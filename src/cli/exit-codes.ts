/** Exit statuses of `traplab` (issue 4, "Exit status"); the guest's own is (V << 1) | 1. */
export const EXIT_OK = 0;
export const EXIT_TRIPLE_FAULT = 2;
/** EX_USAGE (sysexits.h): bad arguments or a bad guest image. */
export const EXIT_USAGE = 64;
/** EX_SOFTWARE: a bug in traplab itself. */
export const EXIT_SOFTWARE = 70;
/** As timeout(1): --max-instructions reached. */
export const EXIT_TIMEOUT = 124;
export const EXIT_SIGINT = 130;
export const EXIT_SIGTERM = 143;
/** stdout was a pipe whose reader went away (as a process killed by SIGPIPE). */
export const EXIT_SIGPIPE = 141;
