#!/usr/bin/env python3
# rusage.py [--to FILE] CMD...: runs CMD and writes "WALL CPU", its wall and
# CPU seconds (user + system of CMD and its children, from wait4()) to the
# microsecond, to FILE; without --to, to standard output, CMD's own output
# then going to /dev/null. Exits with CMD's status (128 + N after signal N).
# GNU time's %U and %S step by 10 ms, 7% of a 0.14 s run.
import os
import sys
import time

args = sys.argv[1:]
to = None
if args[:1] == ["--to"]:
    to, args = args[1], args[2:]
start = time.monotonic()
pid = os.fork()
if pid == 0:
    try:
        if to is None:
            out = os.open(os.devnull, os.O_WRONLY)
            os.dup2(out, 1)
        os.execvp(args[0], args)
    finally:
        os._exit(127)
_, status, usage = os.wait4(pid, 0)
line = f"{time.monotonic() - start:.4f} {usage.ru_utime + usage.ru_stime:.4f}\n"
if to is None:
    sys.stdout.write(line)
else:
    with open(to, "w") as f:
        f.write(line)
code = os.waitstatus_to_exitcode(status)
sys.exit(code if code >= 0 else 128 - code)
