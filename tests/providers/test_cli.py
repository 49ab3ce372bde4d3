"""``inkling events import`` as a user runs it: each bad line named by file and line on
stderr, the rest imported, a summary on stdout, and the exit status saying if any was bad."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

from tests.e2e.server import INKLING

LINES = [
    {"type": "sent", "message": "<a1@help.example>", "recipient": "ana@customer.example",
     "ts": "2026-12-04T16:00:00+01:00", "links": ["https://help.example/a"]},
    {"type": "open", "message": "<a1@help.example>", "ts": 1796396500, "ip": "104.28.28.5",
     "ua": "Mozilla/5.0"},
    {"type": "reply", "message": "<a9\u202egpj.exe@help.example>",
     "ts": 1796396600},
]  # fmt: skip


def _import(
    data_dir: Path, *args: str, stdin: bytes | None = None
) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "INKLING_DATA_DIR": str(data_dir), "INKLING_CONFIG": ""}
    env.pop("INKLING_CONFIG")
    return subprocess.run(
        [str(INKLING), "events", "import", *args],
        input=stdin.decode() if stdin else None,
        capture_output=True,
        text=True,
        env=env,
        cwd=data_dir.parent,
        timeout=60,
    )


def test_a_file_with_a_bad_line_imports_the_rest_and_says_so(data_dir: Path) -> None:
    events = data_dir.parent / "events.jsonl"
    events.write_text("\n".join(json.dumps(line) for line in LINES) + "\n{not json\n")
    done = _import(data_dir, str(events))
    assert done.returncode == 1
    assert done.stderr.splitlines() == [
        f"{events}:3: no message <a9\\u202egpj.exe@help.example>",  # shown, not obeyed
        f"{events}:4: not JSON: unexpected character, expected a string key at column 2",
    ]
    assert done.stdout.startswith("imported 2, skipped duplicates 0,")
    again = _import(data_dir, "-", stdin=events.read_bytes())
    assert again.stdout.startswith("imported 0, skipped duplicates 2,")
    assert again.stderr.splitlines()[0].startswith("-:3: no message")


def test_an_unknown_format_is_a_usage_error(data_dir: Path) -> None:
    done = _import(data_dir, "-", "--format", "sparkpost", stdin=b"")
    assert done.returncode == 2
    assert "--format must be one of inkling, sendgrid, mailgun, postmark, ses" in done.stderr
