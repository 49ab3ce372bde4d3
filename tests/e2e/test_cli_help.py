"""``inkling --version`` and every command's ``--help`` as a new user reads them, at 80
columns: words, not Python types or reST markup, and the defaults written out."""

from __future__ import annotations

import re
from importlib.metadata import version
from pathlib import Path

import pytest
import typer
import typer.core
from typer.core import TyperGroup, TyperOption

from inkling import __version__
from inkling.cli import app
from tests.e2e.test_cli import inkling

pytestmark = pytest.mark.slow

COLUMNS = {"COLUMNS": "80"}
#: What reST and Typer leave in a help text that a person should not have to read.
MARKUP = re.compile(r"``|:(func|class|meth|mod|attr|data|ref):")
#: Typer's own metavars: ``<str>``, ``<int range>``, ``<list[Path]>``, ``<bool>``.
TYPE_METAVAR = re.compile(r"<\w+(?: \w+)?(?:\[\w+\])?>")


def _help(data_dir: Path, *command: str) -> str:
    done = inkling(data_dir, *command, "--help", env=COLUMNS)
    assert done.returncode == 0, done.stderr
    assert done.stderr == b""
    return done.stdout.decode()


def _section(text: str, title: str) -> list[str]:
    """The lines of one section (``Commands:``, ``Options:``) of a help page."""
    lines = text.splitlines()
    if f"{title}:" not in lines:
        return []
    rest = lines[lines.index(f"{title}:") + 1 :]
    return [line for line in rest[: next((i for i, v in enumerate(rest) if not v), None)]]


def _walk(data_dir: Path, command: tuple[str, ...] = ()) -> dict[tuple[str, ...], str]:
    """Every command's help page, found as a person finds them: from the Commands
    section of the page above."""
    page = _help(data_dir, *command)
    pages = {command: page}
    for row in _section(page, "Commands"):
        pages |= _walk(data_dir, (*command, row.split()[0]))
    return pages


def _root() -> TyperGroup:
    """The command tree the app defines, built as ``inkling`` builds it."""
    root = typer.main.get_command(app)
    assert isinstance(root, TyperGroup)
    return root


def _tree(group: TyperGroup, path: tuple[str, ...] = ()) -> set[tuple[str, ...]]:
    """The command names the app defines (what the walk must have found)."""
    found = {path}
    for name, command in group.commands.items():
        if isinstance(command, TyperGroup):
            found |= _tree(command, (*path, name))
        else:
            found.add((*path, name))
    return found


def test_version_is_the_package_version(data_dir: Path) -> None:
    done = inkling(data_dir, "--version")
    assert done.returncode == 0, done.stderr
    assert done.stdout == f"inkling {version('inkling')}\n".encode()
    assert version("inkling") == __version__  # the installed metadata and the package agree
    assert re.fullmatch(r"\d+\.\d+\.\d+\S*", __version__)


@pytest.fixture(scope="module")
def pages(tmp_path_factory: pytest.TempPathFactory) -> dict[tuple[str, ...], str]:
    """Every help page, walked once for the tests that read them all (a process each)."""
    return _walk(tmp_path_factory.mktemp("help-data"))


def test_every_help_page_reads_as_words_at_80_columns(pages: dict[tuple[str, ...], str]) -> None:
    assert set(pages) == _tree(_root())
    assert ("ranges", "update") in pages and ("serve",) in pages  # the walk went deep
    for command, page in pages.items():
        name = " ".join(("inkling", *command))
        assert page.startswith(f"Usage: {name} [OPTIONS]"), name
        assert not MARKUP.search(page), (name, MARKUP.search(page))
        assert not TYPE_METAVAR.search(page), (name, TYPE_METAVAR.search(page))
        assert "{" not in page.splitlines()[0], name  # Typer's {file} for FILE
        long = [line for line in page.splitlines() if len(line) > 80]
        assert not long, (name, long)
        # a command's one-line summary is a whole sentence, not cut short with "..."
        cut = [row for row in _section(page, "Commands") if row.endswith("...")]
        assert not cut, (name, cut)


def _commands(
    group: TyperGroup, path: tuple[str, ...] = ()
) -> dict[tuple[str, ...], typer.core.TyperCommand]:
    found: dict[tuple[str, ...], typer.core.TyperCommand] = {}
    for name, command in group.commands.items():
        if isinstance(command, TyperGroup):
            found |= _commands(command, (*path, name))
        elif isinstance(command, typer.core.TyperCommand):
            found[(*path, name)] = command
    return found


def test_every_option_with_a_value_says_its_default_or_that_it_is_required(
    pages: dict[tuple[str, ...], str],
) -> None:
    checked = []
    for path, command in _commands(_root()).items():
        entries = _entries(pages[path])
        for param in command.params:
            if not isinstance(param, TyperOption) or param.is_flag or param.name == "help":
                continue
            entry = entries[param.opts[0]]
            assert "[default: " in entry or "[required]" in entry, (path, entry)
            checked.append(param.opts[0])
    assert {"--port", "--sent-at", "--limit", "--snapshot", "--jsonl"} <= set(checked)


def _entries(page: str) -> dict[str, str]:
    """Each option's entry in a help page (its lines joined), by its long name."""
    options = "\n".join(_section(page, "Options"))
    entries = [" ".join(e.split()) for e in re.split(r"\n(?=  -)", options) if e.strip()]
    return {entry.split()[0]: entry for entry in entries}


def test_values_are_named_in_capitals(pages: dict[tuple[str, ...], str]) -> None:
    assert "Usage: inkling instrument [OPTIONS] FILE\n" in pages[("instrument",)]
    assert "Usage: inkling parse [OPTIONS] FILE...\n" in pages[("parse",)]
    update = pages[("ranges", "update")]
    assert "Usage: inkling ranges update [OPTIONS] [DIRECTORY]\n" in update
    assert "--source NAME=URL" in update and "--timeout SECONDS" in update
    serve = pages[("serve",)]
    assert "--host HOST" in serve and "--port PORT" in serve
    assert "[default: 127.0.0.1]" in " ".join(serve.split())
    assert "[default: 8080]" in serve
    reading = " ".join(pages[("reading",)].split())
    assert "--limit N" in reading and "[default: all;" in reading


def test_a_missing_argument_is_named_as_the_help_names_it(data_dir: Path) -> None:
    done = inkling(data_dir, "reading", env=COLUMNS)
    assert done.returncode == 2
    assert b"Missing argument 'MESSAGE'" in done.stderr
    assert b"Traceback" not in done.stderr
