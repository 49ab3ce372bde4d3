"""The API against its own OpenAPI spec, with schemathesis: every operation, called with
generated requests (valid and invalid) by a key holding every scope, never answers 5xx
(the 503 of ``POST /api/v1/messages?send=true`` aside: no mail server is configured, and
the spec says so), answers only the status codes and content types it declares, and
bodies that match the schema it declares. A client generated from the spec can trust it.

Bounded and reproducible: a fixed seed, deterministic generation, 15 examples per
operation in the fuzzing phase, plus the spec's examples and the coverage phase's cases
(one per boundary and kind of wrong value). The store holds tickets, a message with
events and opt-outs, and the generator draws their ids for the path parameters half the
time, so each route does its work too, not only 404 and 422. Nothing is left out: the
live feed (which never ends) is read for 0.3 s a call; the webhook receivers get nothing
signed, so they must refuse it. Runs on SQLite and PostgreSQL, about 20 s each.
"""

from __future__ import annotations

import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import schemathesis
from schemathesis.engine import events
from schemathesis.engine.recorder import ScenarioRecorder
from schemathesis.schemas import BaseSchema

from inkling import root
from inkling.model import EventKind, Verdict
from inkling.store import Store
from inkling.tickets.helpdesk_tables import HELPDESKS
from tests.api.test_access import Api, _ticket
from tests.api.test_tickets import _hit

CHECKS = (
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_schema_conformance",
)
#: Examples per operation in the fuzzing phase (the coverage phase adds its own, bounded
#: by the schema: one case per boundary and per kind of wrong value).
MAX_EXAMPLES = 15
SEED = 20261204


def _config(auth: dict[str, str], known: dict[str, list[str]]) -> schemathesis.Config:
    """Every operation, seeded and deterministic, checked by :data:`CHECKS` only; path
    parameters drawn from ``known`` half the time."""
    return schemathesis.Config.from_dict(
        {
            "seed": SEED,
            "headers": auth,
            "generation": {
                "max-examples": MAX_EXAMPLES,
                "deterministic": True,
                "database": "none",  # nothing kept between runs: each run is the same
            },
            "checks": {"enabled": False, **{name: {"enabled": True} for name in CHECKS}},
            "dictionaries": {name: {"values": values} for name, values in known.items()},
            "parameters": {
                f"path.{name}": {"dictionary": name, "probability": 0.5}
                for name in ("message", "ticket", "target", "helpdesk")
            },
            # Links between operations are not what this test is about.
            "phases": {"stateful": {"enabled": False}},
            "operations": [
                # The live feed never ends: each call keeps what came in 0.3 s.
                {"include-name": "GET /api/v1/stream", "request-timeout": 0.3},
                # One contact is read, another erased (the erase must not take the first).
                {
                    "include-name": "GET /api/v1/contacts/{email}/export",
                    "parameters": {"path.email": {"dictionary": "reader", "probability": 0.5}},
                },
                {
                    "include-name": "DELETE /api/v1/contacts/{email}",
                    "parameters": {"path.email": {"dictionary": "erased", "probability": 0.5}},
                },
                {
                    "include-name": "POST /api/v1/messages",
                    # No mail server is configured: send=true is the documented 503, which
                    # answers before the body is read; mostly send=false, to read bodies.
                    "checks": {"not_a_server_error": {"expected-statuses": ["2xx", "4xx", "503"]}},
                    "parameters": {
                        "query.send": {"dictionary": "send", "probability": 0.8},
                        "body.to[*]": {"dictionary": "address", "probability": 0.7},
                        "body.from": {"dictionary": "address", "probability": 0.7},
                        "body.text": {"dictionary": "text", "probability": 0.7},
                    },
                },
            ],
        }
    )


@pytest.fixture
def api_schema(store: Store, data_dir: Path) -> BaseSchema:
    """The whole API (every receiver configured) over a store with two tickets, a message
    with events an hour old (a purge keeps them), and two opt-outs to remove."""
    api = Api(store, data_dir)
    copy = _ticket(store, "4123", "billing")
    _ticket(store, "4124", "returns")
    hour_ago = time.time() - 3600
    _hit(store, copy, str(int(hour_ago)), EventKind.OPEN, Verdict.MACHINE)
    _hit(store, copy, str(int(hour_ago + 600)), EventKind.OPEN, Verdict.HUMAN)
    book = root.opt_outs(api.services)
    for target in ("gone@optout.example", "@optout.example"):
        book.add(target, source="cli")
    known = {
        "message": [str(copy.message_id), str(copy.id)],
        "ticket": ["4123", "4124"],
        "target": ["gone@optout.example", "@optout.example"],
        "helpdesk": list(HELPDESKS),
        "reader": ["customer4123@customer.example"],
        "erased": ["customer4124@customer.example"],
        "send": ["false"],
        "address": ["ana@customer.example", "support@help.example"],
        "text": ["Your refund is on its way."],
    }
    config = _config(api.key("schemathesis", "*"), known)
    return schemathesis.openapi.from_asgi("/api/openapi.json", api.app, config=config)


@dataclass
class Run:
    """What a schemathesis run found: each distinct failure (operation, check, first
    words) once with a curl line that replays it, and the statuses each operation gave."""

    failures: dict[tuple[str, ...], str] = field(default_factory=dict)
    statuses: dict[str, set[int]] = field(default_factory=lambda: defaultdict(set))

    def take(self, event: events.EngineEvent) -> None:
        if isinstance(event, events.ScenarioFinished):
            self._scenario(event.recorder)
        elif isinstance(event, events.NonFatalError):  # the app raised: a 500 on a server
            info = event.info
            where = "\n".join(info.traceback.splitlines()[-12:])
            self.failures.setdefault((event.label, "raised"), f"{info.message}\n{where}")
        elif isinstance(event, events.FatalError):
            self.failures.setdefault(("schemathesis", "stopped"), repr(event.exception))

    def _scenario(self, recorder: ScenarioRecorder) -> None:
        for interaction in recorder.interactions.values():
            if interaction.response is not None:
                self.statuses[recorder.label].add(interaction.response.status_code)
        for nodes in recorder.checks.values():
            for info in (node.failure_info for node in nodes if node.failure_info is not None):
                failure = info.failure
                key = (recorder.label, failure.title, failure.message[:60])
                self.failures.setdefault(key, f"{failure.message}\n{info.code_sample}")

    def report(self) -> str:
        return "\n\n".join(
            f"{key[0]}: {key[1]}\n{text}" for key, text in sorted(self.failures.items())
        )


def _operations(schema: BaseSchema) -> dict[str, bool]:
    """Each operation of the spec, and whether it is a webhook receiver (signed, no key)."""
    return {
        f"{method.upper()} {path}": operation.get("x-inkling-auth") == "signature"
        for path, item in schema.raw_schema["paths"].items()
        for method, operation in item.items()
    }


def test_every_operation_keeps_to_its_schema(api_schema: BaseSchema) -> None:
    run = Run()
    for event in schemathesis.engine.from_schema(api_schema).execute():
        run.take(event)
    if run.failures:
        pytest.fail(run.report(), pytrace=False)
    operations = _operations(api_schema)
    assert len(operations) >= 16 and set(run.statuses) == set(operations)  # none left out
    for label, signed in operations.items():
        answered = run.statuses[label]
        if signed:  # nothing generated is signed: refused, and never taken in
            assert 401 in answered and not any(200 <= s < 300 for s in answered), label
        else:  # the key opens every route: each did its work at least once
            assert any(200 <= s < 300 for s in answered), (label, sorted(answered))
