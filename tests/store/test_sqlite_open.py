"""Processes opening one SQLite file together: each switches it to write-ahead logging,
and SQLite refuses that switch at once ("database is locked") to all but one of them when
the file is still in rollback-journal mode, as a file an older tool or a restore made is.
Every process must still open the file."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

OPEN = textwrap.dedent(
    """
    import sys, time
    from inkling.store.engine import Database
    url, start = sys.argv[1], float(sys.argv[2])
    database = Database(url)
    time.sleep(max(0.0, start - time.time()))
    database.ping()
    """
)


def test_processes_opening_a_rollback_journal_file_together_all_open_it(tmp_path: Path) -> None:
    for attempt in range(3):
        path = tmp_path / f"race-{attempt}.db"
        plain = sqlite3.connect(path)
        plain.execute("CREATE TABLE anything (x)")
        plain.commit()
        plain.close()
        start = time.time() + 1.2
        processes = [
            subprocess.Popen(
                [sys.executable, "-c", OPEN, f"sqlite:///{path}", str(start)],
                stderr=subprocess.PIPE,
                text=True,
            )
            for _ in range(3)
        ]
        for process in processes:
            _out, err = process.communicate(timeout=60)
            assert process.returncode == 0, err
        with sqlite3.connect(path) as check:
            assert check.execute("PRAGMA journal_mode").fetchone() == ("wal",)
