"""Write sisimai's answers for the bounce corpora into a label file the tests read.

Run by hand, where sisimai is installed (Debian: ``apt-get install libsisimai-perl``):

    .venv/bin/python bench/sisimai_labels.py

It reads every file under ``tests/fixtures/inbound/bounces/{messages,ndn}/`` with
``Sisimai->make`` (sisimai 4's name for ``rise``; ``delivered => 1`` so that success reports
answer too) and writes ``tests/fixtures/inbound/sisimai_labels.json``: per file, each
recipient sisimai found with its ``reason``, ``hardbounce`` (sisimai's ``softbounce == 0``),
``deliverystatus`` and ``action``. The tests compare Inkling with these stored answers and
never run sisimai themselves.
"""

from __future__ import annotations

import datetime
import json
import subprocess
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BOUNCES = ROOT / "tests" / "fixtures" / "inbound" / "bounces"
OUT = ROOT / "tests" / "fixtures" / "inbound" / "sisimai_labels.json"
CORPORA = ("messages", "ndn")

# One JSON line a file: [path, [answers...]]. Perl reads the paths from standard input.
_PERL = r"""
use strict; use warnings; use Sisimai; use JSON::PP;
my $json = JSON::PP->new->canonical;
print $json->encode({version => "$Sisimai::VERSION"}), "\n";
while (my $path = <STDIN>) {
    chomp $path;
    my $found = eval { Sisimai->make($path, delivered => 1) } || [];
    my @answers = map { {
        recipient => $_->recipient->address,
        reason => $_->reason,
        hardbounce => ($_->softbounce eq '0' ? JSON::PP::true : JSON::PP::false),
        deliverystatus => $_->deliverystatus,
        action => $_->action,
    } } @$found;
    print $json->encode({file => $path, answers => \@answers}), "\n";
}
"""


def corpus_files() -> list[Path]:
    """The corpus files sisimai is asked about (label files left out)."""
    return sorted(
        path
        for name in CORPORA
        for path in (BOUNCES / name).iterdir()
        if path.is_file() and path.suffix != ".json"
    )


def run_sisimai(files: list[Path]) -> tuple[str, dict[str, list[dict[str, Any]]]]:
    """sisimai's version and its answers, keyed by the path under ``bounces/``."""
    paths = "\n".join(str(path) for path in files) + "\n"
    done = subprocess.run(
        ["perl", "-e", _PERL], input=paths, capture_output=True, text=True, check=True
    )
    lines = [json.loads(line) for line in done.stdout.splitlines()]
    version = str(lines[0]["version"])
    answers = {
        str(Path(line["file"]).relative_to(BOUNCES)): list(line["answers"]) for line in lines[1:]
    }
    return version, answers


def main() -> None:
    version, answers = run_sisimai(corpus_files())
    labels = {
        "about": (
            "sisimai's answers for tests/fixtures/inbound/bounces/, written by"
            " bench/sisimai_labels.py. They are sisimai's output about the corpus files and"
            " licensed as those files are (see README.md)."
        ),
        "sisimai": version,
        "date": datetime.date.today().isoformat(),
        "files": answers,
    }
    OUT.write_text(json.dumps(labels, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    answered = sum(1 for found in answers.values() if found)
    print(json.dumps({"files": len(answers), "answered": answered, "sisimai": version}))


if __name__ == "__main__":
    main()
