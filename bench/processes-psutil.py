#!/usr/bin/env python3
"""bench/processes' psutil side: the CPU one process-table tick of psutil costs.

One tick is psutil.process_iter() with the attributes the issue names (pid, name, username,
cpu_percent, memory_info, io_counters, num_threads, status), every process consumed. psutil
caches Process objects between calls, as the livestat reader caches what it reads once per
process. Its cost is the process's CPU time (time.process_time) across the tick.

--serve: read a tick count per line on stdin, answer with one line of their CPU ms.
Exits 3 when psutil is not importable.
"""

import sys
import time

try:
    import psutil
except ImportError:
    print("psutil is not installed (apt-get install -y python3-psutil)", file=sys.stderr)
    sys.exit(3)

ATTRS = ['pid', 'name', 'username', 'cpu_percent', 'memory_info', 'io_counters', 'num_threads', 'status']


def tick():
    n = 0
    for _ in psutil.process_iter(ATTRS):
        n += 1
    return n


def main():
    tick()
    print(f"ready {psutil.__version__}", flush=True)
    for line in sys.stdin:
        ticks = int(line)
        out = []
        for _ in range(ticks):
            t0 = time.process_time()
            tick()
            out.append((time.process_time() - t0) * 1000)
            time.sleep(0.05)
        print(" ".join(f"{v:.4f}" for v in out), flush=True)


main()
