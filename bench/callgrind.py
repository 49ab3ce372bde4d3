"""Counting a server's instructions with callgrind, between two moments we choose.

The server runs under ``valgrind --tool=callgrind --instr-atstart=no`` (start-up and
warm-up are not counted), with ``--trace-children=yes`` (a server that starts workers has
them counted too) and ``--separate-threads=yes`` (one count per thread, so the event loop
and the threads beside it can be told apart). ``callgrind_control -i on PID`` starts the
counting; each ``callgrind_control -d PID`` writes what was counted since the previous dump
to ``OUT.PID.PART-THREAD`` and starts again from zero, so consecutive dumps split a run
into phases. Instruction counts (``Ir``) are user space only: the kernel's work is not in
them (``bench/procstat.py`` reads that), nor is a database server's.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from procstat import process_tree

_HEADER = re.compile(r"^(part|thread|summary|totals):\s*(\d+)\s*$")


def available() -> str | None:
    """Why callgrind cannot be used here, or None if it can."""
    for tool in ("valgrind", "callgrind_control"):
        if shutil.which(tool) is None:
            return f"{tool} is missing: apt-get install valgrind"
    return None


@dataclass(frozen=True)
class Phase:
    """Instructions counted in one phase, by process id and callgrind thread number."""

    by_thread: dict[tuple[int, int], int]

    @property
    def total(self) -> int:
        return sum(self.by_thread.values())

    def __add__(self, other: Phase) -> Phase:
        merged = dict(self.by_thread)
        for key, count in other.by_thread.items():
            merged[key] = merged.get(key, 0) + count
        return Phase(merged)


class Callgrind:
    """The valgrind command line for one server and its controls; dumps go to ``out_dir``."""

    def __init__(self, out_dir: Path, name: str) -> None:
        self._out_dir = out_dir
        # glob() below must see the stem as plain text: no brackets, no stars
        self._stem = "callgrind-" + re.sub(r"[^A-Za-z0-9_.-]+", "-", name).strip("-")
        self._seen: set[Path] = set()
        out_dir.mkdir(parents=True, exist_ok=True)

    def wrap(self, argv: list[str]) -> list[str]:
        return [
            "valgrind",
            "--tool=callgrind",
            "--instr-atstart=no",
            "--trace-children=yes",
            "--separate-threads=yes",
            f"--callgrind-out-file={self._out_dir / self._stem}.%p",
            *argv,
        ]

    def control(self, pid: int, flag: str, value: str | None = None) -> None:
        """``callgrind_control FLAG [VALUE] PID`` for the server and each of its children
        (each is a callgrind process of its own with ``--trace-children``)."""
        for member in process_tree(pid):
            argv = ["callgrind_control", flag, *([value] if value else []), str(member)]
            done = subprocess.run(argv, capture_output=True, text=True, timeout=120, check=False)
            if done.returncode != 0 and member == pid:
                raise RuntimeError(f"{' '.join(argv)} failed: {done.stdout}{done.stderr}")

    def start(self, pid: int) -> None:
        self.control(pid, "-i", "on")
        self._seen = set(self._dumps())

    def stop(self, pid: int) -> None:
        self.control(pid, "-i", "off")

    def dump(self, pid: int) -> Phase:
        """Dump now; the instructions counted since the last dump (or ``start``)."""
        self.control(pid, "-d")
        fresh = [p for p in self._dumps() if p not in self._seen]
        if not fresh:
            raise RuntimeError(f"callgrind_control -d {pid} wrote no dump in {self._out_dir}")
        self._seen.update(fresh)
        by_thread: dict[tuple[int, int], int] = {}
        for path in fresh:
            process = int(path.name[len(self._stem) + 1 :].split(".", 1)[0])
            thread, count = read_dump(path)
            by_thread[process, thread] = by_thread.get((process, thread), 0) + count
        return Phase(by_thread)

    def _dumps(self) -> list[Path]:
        """The numbered dumps written so far (``OUT.PID`` alone is the dump at exit)."""
        return [p for p in self._out_dir.glob(f"{self._stem}.*.*") if p.is_file()]


def read_dump(path: Path) -> tuple[int, int]:
    """(callgrind thread number, total Ir) from a dump's header; the header ends where the
    cost lines begin, so a long dump is not read to its end unless it lacks a summary."""
    thread, total = 1, None
    with path.open(errors="replace") as lines:
        for line in lines:
            found = _HEADER.match(line)
            if found is None:
                continue
            key, value = found.group(1), int(found.group(2))
            if key == "thread":
                thread = value
            elif key == "summary":
                return thread, value
            elif key == "totals":
                total = value
    if total is None:
        raise RuntimeError(f"{path} has no summary or totals line")
    return thread, total
