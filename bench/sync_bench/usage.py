"""What a loader process reports of itself when it ends: its CPU (user + system, with any
processes it waited for) and its peak memory.

The peak is VmHWM from `/proc/self/status`, the high-water mark of this program's own memory.
`ru_maxrss` is not used for it: on Linux it carries over the peak of the process that forked
this one (the bench itself, about 90 MiB) across `exec`, so a small loader would report the
bench's size. Standard library only: the child scripts, which run where nothing of the bench
is importable, import it as a module beside them.
"""

import resource
from pathlib import Path


def vm_hwm_kib() -> int | None:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return None


def figures() -> dict:
    own = resource.getrusage(resource.RUSAGE_SELF)
    waited = resource.getrusage(resource.RUSAGE_CHILDREN)
    return {
        "cpu_s": own.ru_utime + own.ru_stime + waited.ru_utime + waited.ru_stime,
        "peak_rss_kib": vm_hwm_kib(),
        "ru_maxrss_kib": own.ru_maxrss,
    }
