"""Inbound mail parsed in a worker process: same answers, bounded time, clean stop.

Real worker processes, real corpus mail. The one message that must take long is real too:
a costly shape the size budget lets through (32 nested multiparts over 64 Ki blank lines:
0.3 s of CPU here), given a budget of 0.05 s.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from inkling.inbound import Parsed, parse_message
from inkling.inbound.isolation import IsolatedParser
from tests.inbound import hostile
from tests.inbound.conftest import BOUNCES, MDN, WRITTEN

SAMPLES = [
    BOUNCES / "messages" / "simple_13.txt",
    BOUNCES / "messages" / "dsn_15.txt",
    BOUNCES / "messages" / "yale_01.txt",
    *sorted(MDN.glob("*.eml"))[:1],
    *sorted(WRITTEN.rglob("*.eml"))[:6],
]
# Parsing this in the tracker's process is what the worker is for.
HEAVY = hostile.nested_parts(32)[:-1000] + b"\r\n" * (64 * 1024)


@pytest.fixture
def parser() -> Iterator[IsolatedParser]:
    with IsolatedParser() as isolated:
        yield isolated


def _raws() -> list[bytes]:
    return [path.read_bytes() for path in SAMPLES if path.is_file()]


def test_the_worker_answers_as_the_parser_does_in_process(parser: IsolatedParser) -> None:
    raws = _raws()
    assert len(raws) >= 8
    for raw in raws:
        assert parser.parse(raw) == parse_message(raw)


def test_a_message_over_the_time_budget_is_not_read_and_the_worker_is_replaced() -> None:
    with IsolatedParser(timeout=0.05) as parser:
        bounce = _raws()[0]
        assert parser.parse(bounce).kind == "bounce"
        [stuck] = parser.pids()
        answer = parser.parse(HEAVY)
        assert answer == Parsed("other", defects=("parsing took longer than 0.05 s; not read",))
        assert parser.pids() == []
        with pytest.raises(ProcessLookupError):
            os.kill(stuck, 0)  # killed and reaped
        assert parser.parse(bounce) == parse_message(bounce)  # a new worker
        assert len(parser.pids()) == 1 and parser.pids() != [stuck]


def test_the_work_of_a_costly_message_is_not_done_in_the_callers_process(
    parser: IsolatedParser,
) -> None:
    parser.parse(b"warm up: start the worker")
    start = time.process_time()
    isolated = parser.parse(HEAVY)
    spent_isolated = time.process_time() - start
    start = time.process_time()
    in_process = parse_message(HEAVY)
    spent_in_process = time.process_time() - start
    assert isolated == in_process
    assert spent_isolated < spent_in_process / 5


def test_threads_share_the_worker_and_each_gets_its_own_answer(parser: IsolatedParser) -> None:
    raws = _raws()
    answers: dict[int, Parsed] = {}

    def parse(index: int) -> None:
        answers[index] = parser.parse(raws[index])

    threads = [threading.Thread(target=parse, args=(i,)) for i in range(len(raws))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert answers == {i: parse_message(raw) for i, raw in enumerate(raws)}


def test_a_worker_that_died_between_messages_is_replaced(parser: IsolatedParser) -> None:
    raw = _raws()[1]
    parser.parse(raw)
    [first] = parser.pids()
    os.kill(first, signal.SIGKILL)
    _wait_until_dead(first)
    assert parser.parse(raw) == parse_message(raw)
    assert parser.pids() != [first]


def _wait_until_dead(pid: int) -> None:
    """Until the process is a zombie (its parent, the parser, has not reaped it yet)."""
    status = Path(f"/proc/{pid}/status")
    for _ in range(500):
        if "State:\tZ" in status.read_text():
            return
        time.sleep(0.01)
    raise AssertionError(f"process {pid} is still running")


def test_close_stops_the_workers_and_refuses_more_mail() -> None:
    parser = IsolatedParser(workers=2)
    raws = _raws()
    threads = [threading.Thread(target=parser.parse, args=(raw,)) for raw in raws[:4]]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    started = parser.pids()
    assert 1 <= len(started) <= 2
    parser.close()
    assert parser.pids() == []
    for pid in started:
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)
    with pytest.raises(RuntimeError, match="closed"):
        parser.parse(raws[0])
    parser.close()  # twice is fine


def test_the_worker_does_not_run_the_callers_script_again(tmp_path: Path) -> None:
    # multiprocessing's spawn and forkserver re-run an unguarded main script in the child
    script = tmp_path / "unguarded.py"
    script.write_text(
        textwrap.dedent(
            """
            from inkling.inbound.isolation import IsolatedParser
            print("script ran")
            with IsolatedParser() as parser:
                print(parser.parse(b"In-Reply-To: <a@b.example>\\r\\n\\r\\nthanks").kind)
            """
        )
    )
    done = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, timeout=60, check=True
    )
    assert done.stdout.split() == ["script", "ran", "reply"]
