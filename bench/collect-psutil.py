#!/usr/bin/env python3
"""bench/collect's psutil side: the CPU one tick of psutil costs doing what livestat's five
file collectors (cpu, memory, network, disk, bandwidth) do.

One tick is: cpu_times(percpu=True), getloadavg(), virtual_memory(), swap_memory(),
net_io_counters(pernic=True), disk_io_counters(perdisk=True), disk_partitions() and
disk_usage() of each, and a read of /proc/vmstat (psutil has no call for the paging counters).
Its cost is the process's CPU time (time.process_time) across the tick.

Two modes:
  collect-psutil.py --ticks N   run N ticks, print the median and mean CPU ms per tick
  collect-psutil.py --serve     read a tick count per line on stdin, run that many ticks, answer
                                with one line of their CPU ms, space-separated (bench/collect.ts
                                drives this mode so psutil takes turns with livestat in one run)

Exits 3 with a one-line reason when psutil is not importable.
"""

import argparse
import statistics
import sys
import time

try:
    import psutil
except ImportError:
    print("psutil is not installed (apt-get install -y python3-psutil)", file=sys.stderr)
    sys.exit(3)


def tick():
    psutil.cpu_times(percpu=True)
    psutil.getloadavg()
    psutil.virtual_memory()
    psutil.swap_memory()
    psutil.net_io_counters(pernic=True)
    psutil.disk_io_counters(perdisk=True)
    for partition in psutil.disk_partitions():
        try:
            psutil.disk_usage(partition.mountpoint)
        except OSError:
            pass
    with open("/proc/vmstat") as f:
        f.read()


def run(ticks):
    costs = []
    for _ in range(ticks):
        t0 = time.process_time()
        tick()
        costs.append((time.process_time() - t0) * 1000)
    return costs


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--ticks", type=int, default=2000)
    parser.add_argument("--serve", action="store_true")
    args = parser.parse_args()
    run(50)  # warm the import caches and psutil's own lazily built state
    if args.serve:
        print(f"ready psutil {psutil.__version__}", flush=True)
        for line in sys.stdin:
            costs = run(int(line))
            print(" ".join(f"{ms:.4f}" for ms in costs), flush=True)
        return
    costs = run(args.ticks)
    print(
        f"psutil {psutil.__version__}: median {statistics.median(costs):.3f} ms, "
        f"mean {statistics.fmean(costs):.3f} ms CPU per tick over {args.ticks} ticks"
    )


if __name__ == "__main__":
    main()
