"""``inkling classify``: JSON lines of hits in, one verdict line per hit out, in order.

All lines are read first, because the hits of one message are judged together wherever
they stand in the input. A line that is not a hit gets an ``error`` object in its place,
so the output still lines up with the input and nothing else is lost.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from typing import Any

from inkling.classify.classifier import Classifier
from inkling.classify.hit import Hit
from inkling.errors import HitError


def classify_lines(lines: Iterable[str], classifier: Classifier) -> Iterator[dict[str, Any]]:
    """One output object per non-blank input line: a verdict, or ``{"line", "error"}``."""
    parsed: list[Hit | dict[str, Any]] = []
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            parsed.append(Hit.from_json(json.loads(line)))
        except json.JSONDecodeError as exc:
            parsed.append({"line": number, "error": f"not JSON: {exc.msg} at column {exc.colno}"})
        except HitError as exc:
            parsed.append({"line": number, "error": str(exc)})
    hits = [h for h in parsed if isinstance(h, Hit)]
    judged = iter(classifier.classify(hits))
    for item in parsed:
        if isinstance(item, Hit):
            yield next(judged).as_json(item.message)
        else:
            yield item
