"""CPU seconds of a process tree: what a study cost, Ray's workers included."""

from __future__ import annotations

import math
import os
import resource
from pathlib import Path


def tree_cpu_seconds() -> float:
    """CPU seconds of this process, its reaped children and every live descendant (Ray's
    workers and raylet), read from /proc on Linux; NaN elsewhere. Call it before exiting."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    total = own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime
    proc = Path("/proc")
    if not proc.is_dir():
        return math.nan
    tick = os.sysconf("SC_CLK_TCK")
    parent, cpu = {}, {}
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()
        pid = int(entry.name)
        parent[pid] = int(fields[1])
        cpu[pid] = sum(int(x) for x in fields[11:15]) / tick  # utime stime cutime cstime
    me = os.getpid()
    for pid in parent:
        p, seen = parent[pid], 0
        while p not in (0, 1, me) and p in parent and seen < 64:
            p, seen = parent[p], seen + 1
        if p == me and pid != me:
            total += cpu[pid]
    return round(total, 1)
