"""How ``inkling serve`` logs: lines for a person (``text``), or one JSON object per line
for a log collector (``json``, ``log_format`` in the settings).

A JSON line holds ``time`` (ISO 8601 in UTC, to the millisecond), ``level``, ``logger``,
``message``, and ``exception`` (the traceback's text) when there is one. Controls and
every character outside ASCII are written as ``\\u`` escapes, so a user agent or a
subject quoted in a message cannot act on the terminal that reads the log.
"""

from __future__ import annotations

import json
import logging
import time
from typing import Any

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class JsonFormatter(logging.Formatter):
    """A log record as one line of JSON."""

    def format(self, record: logging.LogRecord) -> str:
        seconds = time.gmtime(record.created)
        millis = int(record.msecs)
        line: dict[str, str] = {
            "time": f"{time.strftime('%Y-%m-%dT%H:%M:%S', seconds)}.{millis:03d}Z",
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        elif record.exc_text:
            line["exception"] = record.exc_text
        if record.stack_info:
            line["stack"] = self.formatStack(record.stack_info)
        return json.dumps(line)  # ensure_ascii: controls, C1 and bidi overrides escaped


def configure(level: str, log_format: str) -> None:
    """Send every log line to stderr at ``level`` and up, as ``log_format`` says. In
    ``json``, Python's warnings are logged too (not printed as lines of their own), and
    uvicorn must be run with ``uvicorn_config``'s answer, so its lines come here too."""
    handler = logging.StreamHandler()
    handler.setFormatter(
        JsonFormatter() if log_format == "json" else logging.Formatter(TEXT_FORMAT)
    )
    logging.basicConfig(level=level.upper(), handlers=[handler])
    if log_format == "json":
        logging.captureWarnings(True)


def uvicorn_config(log_format: str) -> dict[str, Any] | None:
    """What uvicorn's ``log_config`` should be: its own configuration (its text lines) by
    default; None for ``json``, so that uvicorn configures no handler of its own and its
    loggers hand their records to the root logger's JSON handler."""
    if log_format == "json":
        return None
    from uvicorn.config import LOGGING_CONFIG

    return LOGGING_CONFIG
