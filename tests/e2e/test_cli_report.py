"""``inkling report`` run as a support lead runs it: the table, the JSON of the contract
and the CSV, over a month told to the data dir's database; bad options are one line."""

from __future__ import annotations

import csv
import io
import json
import time
from pathlib import Path
from typing import Any

import pytest

from inkling.reports.flat import CSV_COLUMNS
from inkling.store import Store
from inkling.times import parse_time
from tests.e2e.test_cli import inkling
from tests.reports.stories import HELP, Desk

pytestmark = pytest.mark.slow

PERIOD = ("--since", "2026-11-01T00:00:00Z", "--until", "2026-12-01T00:00:00Z")
ARTICLE = HELP + "refunds"
HOSTILE = '=HYPERLINK("https://evil.example") \x1b[31m<b>red</b>'


@pytest.fixture
def month(data_dir: Path) -> Path:
    """Three tickets in November: one solved at first contact by an article a person
    clicked, one that took two messages, one a machine only touched; and the help centre
    named in ./inkling.toml."""
    (data_dir.parent / "inkling.toml").write_text(f'[reports]\nhelp_center = ["{HELP}"]\n')
    store = Store(f"sqlite:///{data_dir / 'inkling.db'}")
    desk = Desk(store)
    desk.ticket("4123", "2026-11-02T09:00:00Z", "2026-11-02T13:00:00Z", team="billing")
    sent = desk.send("4123", "2026-11-02T10:00:00Z", [ARTICLE], subject="Your refund [#4123]")
    desk.opened(sent, "2026-11-02T10:30:00Z")
    desk.clicked(sent, "2026-11-02T10:31:00Z")
    desk.ticket("4124", "2026-11-03T09:00:00Z", "2026-11-04T09:00:00Z", requester=None)
    desk.send("4124", "2026-11-03T10:00:00Z", subject=HOSTILE)
    desk.send("4124", "2026-11-03T12:00:00Z", [ARTICLE], subject="Your refund [#4124]")
    desk.ticket("4125", "2026-11-05T09:00:00Z", requester=None)  # open: not in the report
    store.close()
    return data_dir


def test_the_three_formats_say_the_same(month: Path) -> None:
    as_json = inkling(month, "report", *PERIOD, "--format", "json")
    assert as_json.returncode == 0, as_json.stderr
    report = json.loads(as_json.stdout)
    assert (report["tickets_solved"], report["fcr"], report["self_service_completion"]) == (
        2,
        0.5,
        0.5,
    )
    assert report["by_engagement"]["clicked"]["tickets_solved"] == 1
    assert report["ttr_business_hours"] == {"median": 6.0, "p90": 7.6}  # 4 h and a day

    as_csv = inkling(month, "report", *PERIOD, "--format", "csv")
    assert as_csv.returncode == 0, as_csv.stderr
    rows = list(csv.reader(io.StringIO(as_csv.stdout.decode())))
    assert tuple(rows[0]) == CSV_COLUMNS
    figures = {(s, n, m): v for s, n, m, v in rows[1:]}
    assert figures[("outcomes", "all", "fcr")] == "0.5"
    assert figures[("outcomes", "no_signal", "fcr")] == "0.0"  # two messages
    assert figures[("outcomes", "opened", "fcr")] == ""  # no ticket only opened: null
    assert figures[("outcomes", "all", "ttr_business_hours_p90")] == "7.6"
    assert figures[("content", ARTICLE, "human_clicks")] == "1"
    assert figures[("content", ARTICLE, "download")] == "false"
    raw = {key: value for key, value in figures.items() if key[2].startswith("raw_")}
    assert raw[("content", ARTICLE, "raw_clicks")] == str(_link(report, ARTICLE)["raw_clicks"])
    assert {key[0] for key in raw} == {"content", "subjects"}
    assert figures[("signals", "person", "opens")] == "1"
    # a subject a spreadsheet would run as a formula, with a terminal escape in it
    hostile = next(n for s, n, m in figures if s == "subjects" and "HYPERLINK" in n)
    assert hostile.startswith("'=HYPERLINK") and "\x1b" not in hostile and "\\x1b" in hostile

    table = inkling(month, "report", *PERIOD, env={"COLUMNS": "160"})
    assert table.returncode == 0, table.stderr
    text = table.stdout.decode()
    assert "Tickets solved 2026-11-01 00:00 to 2026-12-01 00:00 UTC" in text
    assert "50.0%" in text and ARTICLE in text and "Your refund" in text
    assert "the raw figure beside each counts machines too" in text
    assert "\x1b[31m" not in text and "\\x1b[31m<b>red</b>" in text  # shown, never obeyed


def test_a_team_and_the_default_period(month: Path) -> None:
    billing = inkling(month, "report", *PERIOD, "--team", "billing", "--format", "json")
    assert json.loads(billing.stdout)["tickets_solved"] == 1
    before = time.time()
    recent = json.loads(inkling(month, "report", "--format", "json").stdout)
    since, until = (parse_time(recent[k], k) for k in ("since", "until"))
    assert before - 1 <= until <= time.time() + 1  # the 30 days up to now
    assert until - since == 30 * 86_400


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (("--since", "last week"), "inkling: --since must be ISO 8601"),
        (("--until", "2026-11-01T00:00:00Z", "--since", "2026-12-01T00:00:00Z"), "before"),
        (("--format", "xlsx"), "inkling: --format must be one of table, json, csv, not xlsx"),
    ],
)
def test_bad_options_are_one_line(data_dir: Path, args: tuple[str, ...], said: str) -> None:
    done = inkling(data_dir, "report", *args)
    assert done.returncode == 2
    lines = done.stderr.decode().splitlines()
    assert len(lines) == 1 and said in lines[0], lines
    assert done.stdout == b""


def _link(report: dict[str, Any], url: str) -> dict[str, Any]:
    return next(link for link in report["content"] if link["url"] == url)
