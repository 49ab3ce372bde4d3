"""What a new user gets wrong in the setup, and the one line ``inkling`` answers with:
on stderr, starting ``inkling:``, exit status 2 for a setting at fault, no traceback."""

from __future__ import annotations

import socket
import subprocess
from pathlib import Path

import pytest

from tests.conftest import FIXTURES
from tests.e2e.server import INKLING, ServerProcess, free_port
from tests.e2e.test_cli import inkling

pytestmark = pytest.mark.slow

EML = str(FIXTURES / "eml" / "single_part_html.eml")
#: A command of each kind: each opens the data dir its own way.
COMMANDS = [
    ("status",),
    ("instrument", EML),
    ("reading", "<a@b.example>"),
    ("keys", "rotate"),
    ("users", "list"),
    ("classify", "--jsonl", "-"),
    ("serve", "--port", str(free_port())),  # refused before it would listen
]


def _one_line(done: subprocess.CompletedProcess[bytes], code: int = 2) -> str:
    """The single stderr line of a refused command (checked to be just that)."""
    assert b"Traceback" not in done.stderr, done.stderr.decode()
    assert done.returncode == code, done.stderr
    assert done.stderr.startswith(b"inkling: "), done.stderr
    assert done.stderr.count(b"\n") == 1, done.stderr
    assert done.stdout == b""
    return done.stderr.decode().rstrip("\n")


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: c[0])
def test_a_file_where_the_data_dir_should_be(tmp_path: Path, command: tuple[str, ...]) -> None:
    taken = tmp_path / "data"
    taken.write_text("not a directory\n")
    line = _one_line(inkling(taken, *command, stdin=b""))
    assert str(taken) in line and "INKLING_DATA_DIR" in line
    assert taken.read_text() == "not a directory\n"


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: c[0])
def test_a_data_dir_that_cannot_be_made(tmp_path: Path, command: tuple[str, ...]) -> None:
    # root may write anywhere: a path under a file is the directory nobody can make
    (tmp_path / "file").write_text("")
    under = tmp_path / "file" / "data"
    line = _one_line(inkling(under, *command, stdin=b"", cwd=tmp_path))
    assert str(under) in line and "INKLING_DATA_DIR" in line and "Not a directory" in line


def test_a_data_dir_path_with_escapes_is_shown_escaped(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("")
    hostile = tmp_path / "file" / "\x1b]0;owned\x07\x1b[2J\u202e"
    line = _one_line(inkling(hostile, "status", cwd=tmp_path))
    assert "\\x1b]0;owned\\x07\\x1b[2J\\u202e" in line
    assert "\x1b" not in line and "\x07" not in line and "\u202e" not in line


def test_a_missing_config_file(data_dir: Path) -> None:
    missing = data_dir.parent / "nowhere" / "inkling.toml"
    line = _one_line(inkling(data_dir, "status", env={"INKLING_CONFIG": str(missing)}))
    assert line == f"inkling: INKLING_CONFIG names {missing}, which is not a readable file"


def test_a_config_that_is_a_directory(data_dir: Path) -> None:
    line = _one_line(inkling(data_dir, "status", env={"INKLING_CONFIG": str(data_dir)}))
    assert f"INKLING_CONFIG names {data_dir}" in line


def test_a_toml_syntax_error_names_the_file_and_the_line(data_dir: Path) -> None:
    config = data_dir.parent / "team.toml"
    config.write_text('base_url = "https://t.help.example"\n[workflows.billing\ntracking = 1\n')
    line = _one_line(inkling(data_dir, "status", env={"INKLING_CONFIG": str(config)}))
    assert line.startswith(f"inkling: cannot read {config}: ")
    assert "line 2" in line


def test_the_default_config_file_is_read_from_the_working_directory(data_dir: Path) -> None:
    (data_dir.parent / "inkling.toml").write_text("port = [\n")  # inkling() runs there
    line = _one_line(inkling(data_dir, "status"))
    assert line.startswith("inkling: cannot read inkling.toml: ")


@pytest.mark.parametrize(
    ("toml", "says"),
    [
        ('base_url = "track.example"\n', "bad setting INKLING_BASE_URL"),
        ("port = 70000\n", "bad setting INKLING_PORT"),
        ('database_url = "mysql://x@db/inkling"\n', "bad setting INKLING_DATABASE_URL"),
        ('[workflows.billing]\ntracking = "sometimes"\n', "workflows.billing.tracking"),
    ],
)
def test_a_bad_value_in_the_config_file_is_named(data_dir: Path, toml: str, says: str) -> None:
    config = data_dir.parent / "settings.toml"
    config.write_text(toml)
    line = _one_line(inkling(data_dir, "status", env={"INKLING_CONFIG": str(config)}))
    assert says in line


def test_a_bad_value_in_the_environment_is_named(data_dir: Path) -> None:
    line = _one_line(inkling(data_dir, "status", env={"INKLING_PORT": "eighty"}))
    assert line.startswith("inkling: bad setting INKLING_PORT")


def test_a_log_format_serve_cannot_write_is_named_with_the_two_it_can(data_dir: Path) -> None:
    line = _one_line(inkling(data_dir, "serve", env={"INKLING_LOG_FORMAT": "xml"}))
    assert line.startswith("inkling: bad setting INKLING_LOG_FORMAT")
    assert "'text' or 'json'" in line


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (("instrument", EML, "--base-url", "track.example"), "bad value for --base-url: must be"),
        (("serve", "--port", "0"), "bad value for --port: "),
        (("serve", "--log-format", "yaml"), "bad value for --log-format: "),
        (("demo", "--no-serve", "--port", "70000"), "bad value for --port: "),
    ],
)
def test_a_bad_option_value_is_named_by_its_option(
    data_dir: Path, args: tuple[str, ...], says: str
) -> None:
    line = _one_line(inkling(data_dir, *args))
    assert line.startswith(f"inkling: {says}")
    assert "INKLING_" not in line  # the person typed the option, not the setting


def test_a_port_in_use_is_one_line_before_anything_starts(data_dir: Path) -> None:
    port = free_port()
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", port))
        taken.listen()
        done = inkling(data_dir, "serve", "--port", str(port))
    line = _one_line(done, code=1)
    assert line.startswith(f"inkling: cannot listen on 127.0.0.1:{port}: Address already in use")
    assert "--port" in line


def test_a_file_in_the_data_dir_that_should_be_a_directory(data_dir: Path) -> None:
    (data_dir / "journal").write_text("")
    line = _one_line(inkling(data_dir, "status"), code=1)
    assert "journal" in line and "Not a directory" in line


def test_a_reader_that_goes_away_is_no_traceback(data_dir: Path) -> None:
    """``inkling parse *.eml | head -1``: the rest of the output has nowhere to go."""
    files = [str(FIXTURES / "eml" / "not_mail.eml")] * 3000
    with subprocess.Popen(
        [str(INKLING), "parse", *files],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=data_dir.parent,
    ) as process:
        assert process.stdout is not None and process.stderr is not None
        first = process.stdout.readline()
        process.stdout.close()
        stderr = process.stderr.read()
        code = process.wait(60)
    assert first.startswith(b'{"file": ')
    assert b"Traceback" not in stderr and b"BrokenPipe" not in stderr, stderr.decode()
    assert code == 1


def test_serving_on_another_port_than_the_links_point_at_is_warned_about(
    data_dir: Path,
) -> None:
    """``inkling serve --port 9000`` with the default base URL: every link would miss."""
    server = ServerProcess(data_dir, env={"INKLING_BASE_URL": "http://127.0.0.1:8080"})
    try:
        log = server.log.read_text()
    finally:
        server.stop()
    assert (
        f"inkling: warning: links point at http://127.0.0.1:8080 but this server listens on "
        f"port {server.port}; set INKLING_BASE_URL to the address it is reached at"
    ) in log.splitlines()


def test_serving_where_the_links_point_gets_no_port_warning(data_dir: Path) -> None:
    server = ServerProcess(data_dir)  # INKLING_BASE_URL is its own address
    try:
        log = server.log.read_text()
    finally:
        server.stop()
    assert "warning" not in log and f"Inkling on {server.url}" in log
