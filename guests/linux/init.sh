#!/bin/sh
# /init of TrapLab's Linux guest (PID 1, run by the kernel from the initramfs).
# The kernel does not automount devtmpfs for an initramfs, so mount it here.
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
echo "init: userspace up, uptime $(cat /proc/uptime)"
export PS1='guest# '
# setsid + cttyhack: a new session whose controlling tty is the real console (ttyS0), so that
# Ctrl-C and job control work in the shell.
exec setsid cttyhack /bin/sh
