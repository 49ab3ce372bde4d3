"""The public surface of inkling.inbound and the `inkling parse` command."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

import inkling.inbound
from inkling.cli import app
from tests.inbound.conftest import WRITTEN


def test_public_names() -> None:
    assert set(inkling.inbound.__all__) == {
        "AutoReply",
        "Bounce",
        "Kind",
        "Mdn",
        "Parsed",
        "parse_message",
    }


def test_parse_prints_one_line_per_file_and_fails_on_unreadable(tmp_path: Path) -> None:
    missing = tmp_path / "missing.eml"
    files = [str(WRITTEN / "customer_reply.eml"), str(missing), str(WRITTEN / "garbage.bin")]
    result = CliRunner().invoke(app, ["parse", *files])
    assert result.exit_code == 1
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [line["file"] for line in lines] == files
    assert lines[0]["kind"] == "reply"
    assert "error" in lines[1] and "kind" not in lines[1]
    assert lines[2]["kind"] == "other"
    assert "Traceback" not in result.output


def test_parse_exits_zero_when_all_readable() -> None:
    result = CliRunner().invoke(app, ["parse", str(WRITTEN / "dsn_delivered.eml")])
    assert result.exit_code == 0
    assert json.loads(result.stdout)["kind"] == "delivered"
