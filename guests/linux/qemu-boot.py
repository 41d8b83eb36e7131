#!/usr/bin/env python3
"""Reference boot of TrapLab's Linux guest under QEMU (the oracle, not our emulator).

Boots guests/linux/bzImage + initramfs.cpio on qemu-system-i386 -M isapc, waits for the
`guest# ` prompt, types the given commands one by one (each waits for the next prompt), and
prints the serial transcript plus timings. The last command usually ends the machine
(`reboot -f` makes QEMU exit because of -no-reboot).

  guests/linux/qemu-boot.py [--cpu 486|486,-fpu] [--mem MiB] [--append "..."] [--timeout S] CMD...
"""

import argparse
import os
import select
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
PROMPT = b"guest# "
DEFAULT_APPEND = "console=ttyS0 lpj=500000"


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--cpu", default="486")
    ap.add_argument("--mem", default="32", help="RAM in MiB")
    ap.add_argument("--append", default=DEFAULT_APPEND)
    ap.add_argument("--timeout", type=float, default=30.0, help="seconds per step")
    ap.add_argument("--raw", action="store_true", help="keep escape sequences in the transcript")
    ap.add_argument("cmds", nargs="*")
    a = ap.parse_args()

    argv = ["qemu-system-i386", "-M", "isapc", "-cpu", a.cpu, "-m", a.mem, "-display", "none",
            "-serial", "stdio", "-monitor", "none", "-no-reboot",
            "-kernel", os.path.join(HERE, "bzImage"), "-initrd", os.path.join(HERE, "initramfs.cpio"),
            "-append", a.append]
    print("$ " + " ".join(f'"{x}"' if " " in x else x for x in argv), file=sys.stderr)
    t0 = time.monotonic()
    p = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    assert p.stdin is not None and p.stdout is not None
    out = bytearray()
    marks: list[str] = []

    def read_until(pattern: bytes | None, start: int) -> bool:
        """Reads serial output until `pattern` appears after offset `start` (or QEMU exits)."""
        deadline = time.monotonic() + a.timeout
        while True:
            if pattern is not None and out.find(pattern, start) >= 0:
                return True
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            r, _, _ = select.select([p.stdout], [], [], left)
            if r:
                chunk = os.read(p.stdout.fileno(), 65536)
                if not chunk:
                    return pattern is None
                out.extend(chunk)

    first = None
    ok = read_until(PROMPT, 0)
    first = time.monotonic() - t0
    marks.append(f"prompt after {first:.3f} s" if ok else "no prompt (timeout)")
    status = 0 if ok else 1
    for cmd in a.cmds if ok else []:
        start = len(out)
        p.stdin.write(cmd.encode() + b"\n")
        p.stdin.flush()
        # Wait for the prompt that follows the echoed command line.
        echo_end = start
        if read_until(cmd.encode(), start):
            echo_end = out.find(cmd.encode(), start) + len(cmd)
        t = time.monotonic()
        got = read_until(PROMPT, echo_end)
        if not got:
            exited = p.poll() is not None or read_until(None, len(out))
            marks.append(f"{cmd!r}: {'QEMU exited' if exited else 'no prompt (timeout)'}"
                         f" after {time.monotonic() - t:.3f} s")
            break
        marks.append(f"{cmd!r}: prompt after {time.monotonic() - t:.3f} s")
    try:
        rc = p.wait(timeout=a.timeout)
        marks.append(f"QEMU exit status {rc}")
    except subprocess.TimeoutExpired:
        marks.append("QEMU still running: killed")
        p.kill()
        p.wait()
        status = status or 2
    text = out.decode("utf-8", "replace").replace("\r", "")
    if not a.raw:
        text = text.replace("\x1b[6n", "<ESC[6n>")
    sys.stdout.write(text)
    if not text.endswith("\n"):
        sys.stdout.write("\n")
    print("--- " + "; ".join(marks) + f"; total {time.monotonic() - t0:.3f} s", file=sys.stderr)
    return status


if __name__ == "__main__":
    sys.exit(main())
