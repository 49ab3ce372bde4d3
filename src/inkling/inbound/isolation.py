"""Inbound mail parsed in a worker process, with a time budget: no message can stall the tracker.

The inbound MX and the IMAP poller run inside the tracker's process, on worker threads.
Python's ``re`` holds the interpreter lock for the whole of one match, so a rule that ran
long on one hostile message stopped the pixel and redirect handlers on the main thread
too (one 27 KB mail froze the server for 35 s before the rules were made linear). Every
rule is linear now and each message has a size budget (``budget.py``), but the parser is
pure Python over an unbounded variety of input: ``IsolatedParser`` runs
``parse_message`` in a child process, so whatever one message costs is spent there,
and after ``timeout`` seconds that child is killed and replaced and the message is
answered as ``other`` with the reason in its defects.

The worker is a fresh interpreter (``python -m inkling.inbound.isolation``) started when
the first message arrives, talking over a socket pair with ``multiprocessing``'s framing:
nothing of the tracker's threads, sockets or locks is inherited (as ``fork`` would), and,
unlike ``multiprocessing``'s own ``spawn`` and ``forkserver``, it does not run the
parent's main script again (a script without an ``if __name__ == "__main__"`` guard would
start the service a second time in the child). ``parse`` may be called from any thread;
with one worker (the default) calls take turns.
"""

from __future__ import annotations

import contextlib
import logging
import os
import queue
import signal
import socket
import subprocess
import sys
import threading
from multiprocessing.connection import Connection
from pathlib import Path
from types import TracebackType

from inkling.inbound.model import Parsed
from inkling.inbound.parser import parse_message

log = logging.getLogger(__name__)

# The costliest message the size budget lets through takes 0.6 s of CPU here (32 nested
# parts over 256 KiB of blank lines; docs/inbound.md), an ordinary one 1 to 3 ms. Five
# seconds leaves room for a busy machine, and is nothing to an SMTP client, which waits
# up to 10 minutes for the reply to its data (RFC 5321 §4.5.3.2.6).
DEFAULT_TIMEOUT = 5.0
_STOP_GRACE = 2.0  # seconds a worker may take to exit once its pipe is closed
# Seconds a new worker may take to import the parser (0.25 s here) and say it is ready;
# not counted in a message's ``timeout``.
_START_TIMEOUT = 30.0
_READY = b"ready"
_WARM_UP = (
    b"From: MAILER-DAEMON@mx.example\r\nSubject: Undelivered Mail\r\n\r\n"
    b"<ana@customer.example>: 550 5.1.1 user unknown\r\n",
    b"From: ana@customer.example\r\nSubject: Automatic reply\r\nAuto-Submitted: auto-replied"
    b"\r\n\r\nI am out of the office until 3 December.\r\n",
)


class IsolatedParser:
    """``parse(raw)`` answered by ``parse_message`` in a worker process.

    ``timeout`` bounds one message (seconds of wall time from when a worker takes it);
    ``workers`` is how many messages may be parsed at once. ``close()`` stops the workers;
    it is also called on leaving a ``with`` block.
    """

    def __init__(self, *, timeout: float = DEFAULT_TIMEOUT, workers: int = 1) -> None:
        if timeout <= 0 or workers < 1:
            raise ValueError("timeout must be positive and workers at least 1")
        self._timeout = timeout
        # A slot is a worker, or None for one not started yet (or killed): started on use.
        self._slots: queue.Queue[_Worker | None] = queue.Queue()
        for _ in range(workers):
            self._slots.put(None)
        self._workers = workers
        self._closed = threading.Event()
        self._lock = threading.Lock()
        self._running: dict[int, _Worker] = {}  # by process id

    def parse(self, raw: bytes) -> Parsed:
        """What ``raw`` is, as ``parse_message`` says; no input makes it raise.

        Raises ``RuntimeError`` when the parser is closed and ``OSError`` when no worker
        process can be started: the inbound MX then answers "try again later".
        """
        if self._closed.is_set():
            raise RuntimeError("the inbound parser is closed")
        worker = self._slots.get()
        try:
            if self._closed.is_set():
                raise RuntimeError("the inbound parser is closed")
            if worker is not None and not worker.alive():  # died while idle (killed, OOM)
                self._stop(worker)
                worker = None
            try:
                parsed, worker = self._ask(worker or self._start(), raw)
            except _NotSent:  # it died before the message reached it: the message is not why
                worker = None
                parsed, worker = self._ask(self._start(), raw)
        finally:
            self._slots.put(worker)
        return parsed

    def _start(self) -> _Worker:
        worker = _Worker()
        with self._lock:
            self._running[worker.pid] = worker
        return worker

    def _ask(self, worker: _Worker, raw: bytes) -> tuple[Parsed, _Worker | None]:
        """The answer, and the worker to keep (None when it had to be stopped)."""
        try:
            parsed = worker.ask(raw, self._timeout)
        except _NotSent:
            self._stop(worker, at_once=True)
            raise
        except (EOFError, OSError):
            code = self._stop(worker, at_once=True)
            log.warning("the inbound parser process stopped (exit code %s)", code)
            return _unread(f"the parser process stopped (exit code {code}); not read"), None
        if parsed is None:
            self._stop(worker, at_once=True)
            log.warning("an inbound message took longer than %g s to parse", self._timeout)
            return _unread(f"parsing took longer than {self._timeout:g} s; not read"), None
        return parsed, worker

    def _stop(self, worker: _Worker, *, at_once: bool = False) -> int | None:
        with self._lock:
            self._running.pop(worker.pid, None)
        return worker.stop(at_once=at_once)

    def pids(self) -> list[int]:
        """The ids of the worker processes started and not stopped (for an operator)."""
        with self._lock:
            return sorted(self._running)

    def close(self) -> None:
        """Stop the workers, after the messages being parsed now are answered."""
        if self._closed.is_set():
            return
        self._closed.set()
        for _ in range(self._workers):
            worker = self._slots.get()  # waits for a parse in progress (at most ``timeout``)
            if worker is not None:
                self._stop(worker)
            self._slots.put(None)

    def __enter__(self) -> IsolatedParser:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.close()


class _Worker:
    """One child process and the socket to it: raw bytes go in, a pickled ``Parsed`` out
    (unpickled here: the child runs this package's code only)."""

    def __init__(self) -> None:
        ours, theirs = socket.socketpair()
        # The child finds this very package, wherever the parent imported it from.
        source = str(Path(__file__).resolve().parents[2])
        path = os.pathsep.join(p for p in (source, os.environ.get("PYTHONPATH")) if p)
        try:
            self._process = subprocess.Popen(
                [sys.executable, "-m", __name__, str(theirs.fileno())],
                pass_fds=(theirs.fileno(),),
                stdin=subprocess.DEVNULL,
                env={**os.environ, "PYTHONPATH": path},
            )
        finally:
            theirs.close()
        self._connection = Connection(ours.detach())
        if not self._connection.poll(_START_TIMEOUT) or self._connection.recv_bytes() != _READY:
            code = self.stop(at_once=True)
            raise OSError(f"the inbound parser process did not start (exit code {code})")

    @property
    def pid(self) -> int:
        return self._process.pid

    def alive(self) -> bool:
        return self._process.poll() is None

    def ask(self, raw: bytes, timeout: float) -> Parsed | None:
        """The worker's answer, or None if it has none within ``timeout`` seconds.

        Waiting releases the interpreter lock, so the tracker runs on meanwhile.
        """
        try:
            self._connection.send_bytes(raw)
        except OSError as exc:  # the worker is gone (EPIPE, ECONNRESET)
            raise _NotSent from exc
        if not self._connection.poll(timeout):
            return None
        answer = self._connection.recv()
        if not isinstance(answer, Parsed):
            raise EOFError(f"the parser process answered a {type(answer).__name__}")
        return answer

    def stop(self, *, at_once: bool = False) -> int | None:
        """End the process and return its exit code: killed ``at_once`` (it is stuck on
        a message), else given ``_STOP_GRACE`` seconds to exit by itself first."""
        self._connection.close()  # an idle worker reads end-of-file and exits
        if not at_once:
            with contextlib.suppress(subprocess.TimeoutExpired):
                self._process.wait(_STOP_GRACE)
        if self._process.poll() is None:
            self._process.kill()
        return self._process.wait()


class _NotSent(Exception):
    """The message could not be handed to the worker: it had stopped before."""


def _serve(connection: Connection) -> None:
    """The worker's loop: until the pipe closes, parse what comes and send the answer."""
    # Ctrl-C in a terminal reaches the whole process group: the tracker handles it and
    # closes the parser, the worker only has to go when its pipe does.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    for sample in _WARM_UP:  # rule tables compiled before the first message's clock starts
        parse_message(sample)
    connection.send_bytes(_READY)
    while True:
        try:
            raw = connection.recv_bytes()
        except (EOFError, OSError):
            return
        connection.send(parse_message(raw))


def _unread(reason: str) -> Parsed:
    return Parsed("other", defects=(reason,))


if __name__ == "__main__":
    _serve(Connection(int(sys.argv[1])))
