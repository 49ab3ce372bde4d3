"""What the kernel says about a server: CPU time, kernel time, context switches.

Read from ``/proc``, for a process and all its descendants (granian runs its worker as a
child) and every thread of each (the recorder's writer thread, the journal's loader):
``/proc/PID/task/TID/stat`` has a thread's user and system time in clock ticks, and
``/proc/PID/task/TID/status`` its voluntary switches (it waited: I/O, a lock, the event
loop's poll) and involuntary ones (the scheduler took the core away). A thread that ends
between two readings takes its counts with it; the server's threads live as long as it does.
"""

from __future__ import annotations

import contextlib
import os
import resource
from dataclasses import dataclass
from pathlib import Path

_TICK = os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class TaskCounters:
    """Totals over a process tree's threads at one moment."""

    user_s: float = 0.0
    system_s: float = 0.0
    voluntary: int = 0
    involuntary: int = 0

    def __sub__(self, other: TaskCounters) -> TaskCounters:
        return TaskCounters(
            self.user_s - other.user_s,
            self.system_s - other.system_s,
            self.voluntary - other.voluntary,
            self.involuntary - other.involuntary,
        )

    def __add__(self, other: TaskCounters) -> TaskCounters:
        return TaskCounters(
            self.user_s + other.user_s,
            self.system_s + other.system_s,
            self.voluntary + other.voluntary,
            self.involuntary + other.involuntary,
        )


def _stat_fields(path: Path) -> list[str]:
    """The fields of a ``stat`` file after the command name (which may hold spaces)."""
    return path.read_text().rsplit(")", 1)[1].split()


def process_tree(pid: int) -> list[int]:
    """``pid`` and all its descendants."""
    parents: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, ValueError, IndexError):
            parents.setdefault(int(_stat_fields(stat)[1]), []).append(int(stat.parent.name))
    tree, todo = [], [pid]
    while todo:
        current = todo.pop()
        tree.append(current)
        todo.extend(parents.get(current, []))
    return tree


def cpu_seconds(pid: int) -> float:
    """User plus system CPU seconds of ``pid``'s process tree (all threads, ended ones too)."""
    total = 0.0
    for member in process_tree(pid):
        with contextlib.suppress(OSError, ValueError, IndexError):
            fields = _stat_fields(Path(f"/proc/{member}/stat"))
            total += (int(fields[11]) + int(fields[12])) / _TICK
    return total


def task_counters(pid: int) -> TaskCounters:
    """User and system time and context switches of every thread of ``pid``'s tree."""
    total = TaskCounters()
    for member in process_tree(pid):
        for task in Path(f"/proc/{member}/task").glob("[0-9]*"):
            with contextlib.suppress(OSError, ValueError, IndexError):
                fields = _stat_fields(task / "stat")
                switches = dict.fromkeys(("voluntary", "nonvoluntary"), 0)
                for line in (task / "status").read_text().splitlines():
                    name, _, value = line.partition(":")
                    if name.endswith("_ctxt_switches"):
                        switches[name.removesuffix("_ctxt_switches")] = int(value)
                total += TaskCounters(
                    int(fields[11]) / _TICK,
                    int(fields[12]) / _TICK,
                    switches["voluntary"],
                    switches["nonvoluntary"],
                )
    return total


def cores_seconds(cpus: list[str]) -> float:
    """User, nice, system and steal seconds spent so far on the CPUs ``cpus``."""
    names = {f"cpu{cpu}" for cpu in cpus}
    total = 0
    for line in Path("/proc/stat").read_text().splitlines():
        fields = line.split()
        if fields[0] in names:
            total += sum(int(fields[i]) for i in (1, 2, 3, 8))
    return total / _TICK


def postgres_seconds() -> float:
    """CPU seconds used so far by the processes named ``postgres`` (the local server)."""
    total = 0.0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, ValueError, IndexError):
            text = stat.read_text()
            if text[text.index("(") + 1 : text.rindex(")")] == "postgres":
                fields = text.rsplit(")", 1)[1].split()
                total += (int(fields[11]) + int(fields[12])) / _TICK
    return total


def children_seconds() -> float:
    """CPU seconds of the finished children (wrk, once it has been waited for)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime
