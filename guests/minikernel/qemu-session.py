#!/usr/bin/env python3
"""Drive minikernel's shell under QEMU: boot, wait for each `mini$ ` prompt, type a command,
and finally `exit`. Prints the whole console and exits with QEMU's status ((0 << 1) | 1 = 1 when
the shell exits normally). Usage: qemu-session.py [ELF] [command ...]  (default: a tour). "+N cmd" waits N seconds before typing cmd."""
import os, select, subprocess, sys, time

here = os.path.dirname(os.path.abspath(__file__))
args = sys.argv[1:]
elf = args.pop(0) if args and args[0].endswith(".elf") else os.path.join(here, "minikernel.elf")
commands = args or ["help", "ps", "uptime", "mem", "cpuid", "bench", "bench pgfault", "ps"]
cpu = os.environ.get("QEMU_CPU", "pentium")

q = subprocess.Popen(
    ["qemu-system-i386", "-cpu", cpu, "-kernel", elf, "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04",
     "-serial", "stdio", "-display", "none", "-monitor", "none", "-no-reboot"],
    stdin=subprocess.PIPE, stdout=subprocess.PIPE)
out = b""

def wait_for(marker, timeout=30.0):
    global out
    end = time.time() + timeout
    while marker not in out:
        left = end - time.time()
        if left <= 0 or q.poll() is not None and not select.select([q.stdout], [], [], 0)[0]:
            return False
        if select.select([q.stdout], [], [], min(left, 0.5))[0]:
            chunk = os.read(q.stdout.fileno(), 4096)
            if not chunk:
                return False
            out += chunk
    return True

ok = True
for cmd in commands + ["exit"]:
    if not wait_for(b"mini$ "):
        ok = False
        break
    out = out.replace(b"mini$ ", b"mini$\x00", 1)  # consume this prompt
    if cmd.startswith("+"):  # "+N ps": wait N seconds of wall time first
        pause, cmd = cmd[1:].split(" ", 1)
        time.sleep(float(pause))
    for ch in (cmd + "\r").encode():  # type it, one character at a time, like a person
        q.stdin.write(bytes([ch]))
        q.stdin.flush()
        time.sleep(0.002)
try:
    rest, _ = q.communicate(timeout=30)
    out += rest
except subprocess.TimeoutExpired:
    q.kill()
    ok = False
sys.stdout.write(out.replace(b"mini$\x00", b"mini$ ").decode("latin-1").replace("\r\n", "\n"))
print(f"\n[qemu exit status {q.returncode}]" + ("" if ok else " (session incomplete)"))
sys.exit(q.returncode if ok else 99)
