"""``inkling classify`` and ``inkling ranges update`` as an operator runs them."""

from __future__ import annotations

import json
from pathlib import Path

from tests.e2e.test_cli import inkling

SENT = 1_796_000_000.0
MPP = {"message": "m1", "kind": "open", "ts": SENT + 2, "sent_at": SENT}
MPP |= {"ip": "172.225.6.9", "ua": "Mozilla/5.0"}
PERSON = {"message": "m1", "kind": "click", "ts": SENT + 400, "sent_at": SENT, "ip": "81.2.69.1"}
PERSON |= {"ua": "Mozilla/5.0 (X11; Linux x86_64; rv:146.0) Gecko/20100101 Firefox/146.0"}
PERSON |= {"link": 0, "links_total": 1}


def test_classify_reads_a_file_and_answers_line_for_line(data_dir: Path) -> None:
    hits = data_dir.parent / "hits.jsonl"
    hits.write_text("\n".join(json.dumps(h) for h in (MPP, PERSON)) + "\n")
    done = inkling(data_dir, "classify", "--jsonl", str(hits))
    assert done.returncode == 0, done.stderr
    lines = [json.loads(line) for line in done.stdout.splitlines()]
    assert [(r["message"], r["verdict"], r["agent"]) for r in lines] == [
        ("m1", "machine", "apple_mpp"),
        ("m1", "human", "browser"),
    ]
    assert all(r["reasons"] for r in lines)


def test_bad_lines_get_an_error_in_place_and_the_rest_is_judged(data_dir: Path) -> None:
    stdin = "\n".join([json.dumps(MPP), "{not json", json.dumps({**PERSON, "kind": "tap"})])
    done = inkling(data_dir, "classify", "--jsonl", "-", stdin=stdin.encode())
    assert done.returncode == 1
    lines = [json.loads(line) for line in done.stdout.splitlines()]
    assert lines[0]["verdict"] == "machine"
    assert lines[1]["line"] == 2 and "not JSON" in lines[1]["error"]
    assert lines[2]["line"] == 3 and "kind" in lines[2]["error"]
    assert b"line 3: 'kind' must be" in done.stderr
    assert b"Traceback" not in done.stderr


def _ranges(directory: Path, apple_v4: str) -> Path:
    directory.mkdir()
    stems = ("apple-proxy", "google", "googlebot", "microsoft", "amazon")
    for stem in stems:
        for family in ("ipv4", "ipv6"):
            (directory / f"{stem}-{family}.txt").write_text("")
    (directory / "apple-proxy-ipv4.txt").write_text(apple_v4)
    return directory


def test_ranges_update_installs_a_snapshot_that_verdicts_name(data_dir: Path) -> None:
    fresh = _ranges(data_dir.parent / "fresh", "198.51.100.0/24\n")
    done = inkling(data_dir, "ranges", "update", str(fresh), "--snapshot", "2026-11-01")
    assert done.returncode == 0, done.stderr
    assert b"snapshot 2026-11-01" in done.stderr
    hit = {**MPP, "ip": "198.51.100.7"}
    judged = inkling(data_dir, "classify", "--jsonl", "-", stdin=json.dumps(hit).encode())
    [result] = [json.loads(line) for line in judged.stdout.splitlines()]
    assert any("Private Relay" in r and "2026-11-01" in r for r in result["reasons"])


def test_a_bad_ranges_file_changes_nothing(data_dir: Path) -> None:
    good = _ranges(data_dir.parent / "good", "198.51.100.0/24\n")
    assert (
        inkling(data_dir, "ranges", "update", str(good), "--snapshot", "2026-11-01").returncode == 0
    )
    bad = _ranges(data_dir.parent / "bad", "198.51.100.0/24\nnot-a-range\n")
    done = inkling(data_dir, "ranges", "update", str(bad))
    assert done.returncode == 1
    assert b"apple-proxy-ipv4.txt, line 2: 'not-a-range' is not a CIDR range" in done.stderr
    assert (data_dir / "ranges" / "SNAPSHOT").read_text().startswith("2026-11-01")
