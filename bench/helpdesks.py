"""How fast a helpdesk's webhook is read: the signature checked and the payload mapped
onto the ticket upsert (the part of ``POST /api/v1/integrations/{helpdesk}`` before the
database), for each helpdesk's fixture in tests/fixtures/helpdesks/.

    .venv/bin/python bench/helpdesks.py [--calls 10000] [--rounds 5]

Prints one JSON object: per fixture, calls per second and microseconds per call of
``verify`` + ``json.loads`` + ``map_payload``.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import hmac
import json
import time
from pathlib import Path

from inkling.tickets.helpdesk_signatures import verify
from inkling.tickets.helpdesks import HelpdeskOptions, map_payload

FIXTURES = Path(__file__).parents[1] / "tests" / "fixtures" / "helpdesks"
SECRET = "bench-secret"
SIGNED_AT = "2026-12-04T09:05:00Z"
NOW = 1796375100.0


def _headers(name: str, body: bytes) -> dict[str, str]:
    """The headers each helpdesk would send with ``body``."""
    sha1 = hmac.new(SECRET.encode(), body, hashlib.sha1)
    if name == "zendesk":
        mac = hmac.new(SECRET.encode(), SIGNED_AT.encode() + body, hashlib.sha256).digest()
        return {
            "X-Zendesk-Webhook-Signature": base64.b64encode(mac).decode(),
            "X-Zendesk-Webhook-Signature-Timestamp": SIGNED_AT,
        }
    if name == "zammad":
        return {"X-Hub-Signature": "sha1=" + sha1.hexdigest()}
    if name == "freshdesk":
        return {"X-Inkling-Token": SECRET}
    header = "X-HelpScout-Signature" if name == "helpscout" else "X-FreeScout-Signature"
    return {header: base64.b64encode(sha1.digest()).decode()}


def _timed(path: Path, calls: int, rounds: int) -> dict[str, float]:
    name = path.name.split("-")[0]
    body = path.read_bytes()
    headers = _headers(name, body)
    options = HelpdeskOptions(secret=SECRET, token=SECRET)
    best = float("inf")
    for _ in range(rounds):
        began = time.perf_counter()
        for _ in range(calls):
            verify(name, options, headers, body, now=NOW)
            map_payload(name, json.loads(body), options, received_at=NOW)
        best = min(best, time.perf_counter() - began)
    return {"calls_per_s": round(calls / best), "us_per_call": round(best / calls * 1e6, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    result = {
        path.name: _timed(path, args.calls, args.rounds) for path in sorted(FIXTURES.glob("*.json"))
    }
    print(json.dumps({"calls": args.calls, "rounds": args.rounds, "fixtures": result}, indent=2))


if __name__ == "__main__":
    main()
