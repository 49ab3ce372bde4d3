"""Provider payloads as lines of the ``inkling`` format, by the tables of ``formats.toml``.

Each provider names the same facts differently (SendGrid's ``smtp-id``, Mailgun's
``message.headers.message-id``, SES's ``mail.commonHeaders.messageId``); the table says
where each fact is, and :func:`convert` reads it there. What normalising libraries drop is
kept: the client's address, its user agent, the provider's own machine flag
(``sg_machine_open``, ``client-info.bot``) and the whole payload, as JSON text.
"""

from __future__ import annotations

import json
import tomllib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

import orjson

from inkling.errors import IntakeError
from inkling.providers.lines import EventLine, Origin, SentLine, parse_line

FORMATS = ("inkling", "sendgrid", "mailgun", "postmark", "ses")
#: Payload fields copied straight into the line, by the name the `inkling` format gives them.
_COPIED = ("ts", "recipient", "ip", "ua", "url", "status")


@dataclass(frozen=True, slots=True)
class Format:
    """One provider's row of ``formats.toml``."""

    name: str
    unwrap: tuple[str, ...]
    paths: dict[str, tuple[tuple[str, ...], ...]]
    types: dict[str, dict[str, Any]]
    subtypes: dict[str, dict[str, Any]]


@cache
def provider_format(name: str) -> Format:
    """The table of provider ``name`` (one of FORMATS but ``inkling``)."""
    text = resources.files("inkling.providers").joinpath("formats.toml").read_text("utf-8")
    row = tomllib.loads(text)[name]
    return Format(
        name=name,
        unwrap=tuple(row["unwrap"]),
        paths={
            key: tuple(tuple(p.split(".")) for p in found) for key, found in row["paths"].items()
        },
        types=row["types"],
        subtypes=row["subtypes"],
    )


def events_of(payload: Any) -> Iterator[Any]:
    """The events a payload holds: a JSON array (SendGrid posts a batch) or one object."""
    if isinstance(payload, list):
        yield from payload
    else:
        yield payload


def convert(name: str, payload: Any) -> SentLine | EventLine | None:
    """One provider event as a line; None for an event Inkling keeps no record of
    (SendGrid's ``processed``, Mailgun's ``accepted``, an unsubscribe...). IntakeError
    says what is missing or wrong."""
    if name == "inkling":
        return parse_line(payload)
    table = provider_format(name)
    if name == "ses":
        payload = sns_message(payload)
    event = _unwrapped(payload, table.unwrap)
    word = _first(event, table.paths["type"])
    mapped = table.types.get(word) if isinstance(word, str) else None
    if mapped is None:
        if word is None:
            raise IntakeError(f"not a {name} event: no {_names(table.paths['type'])}")
        return None
    line = dict(mapped)
    subtype = _first(event, table.paths["subtype"])
    if isinstance(subtype, str):
        line |= table.subtypes.get(subtype, {})
    line |= _facts(event, table)
    raw = orjson.dumps(event, option=orjson.OPT_SORT_KEYS).decode()
    ident = _first(event, table.paths["id"])
    bot = _first(event, table.paths["bot"])
    origin = Origin(name, str(ident) if ident else raw, raw, _bot_word(bot))
    try:
        return parse_line(line, origin)
    except IntakeError as exc:
        raise IntakeError(f"{name} {word} event: {exc}") from None


def _facts(event: Mapping[str, Any], table: Format) -> dict[str, Any]:
    line: dict[str, Any] = {}
    message = _first(event, table.paths["message"])
    if message is None:
        raise IntakeError(
            f"{table.name} event names no message: none of {_names(table.paths['message'])}"
        )
    line["message"] = message
    for name in _COPIED:
        value = _first(event, table.paths[name])
        if value is not None:
            line[name] = value
    text = _first(event, table.paths["text"])
    if isinstance(text, str) and text:
        line["diagnostic"] = text[:1000]
    if isinstance(line.get("status"), int):  # Mailgun's SMTP code, not an RFC 3463 one
        line["diagnostic"] = f"{line.pop('status')} {line.get('diagnostic', '')}".strip()
    return line


def sns_message(payload: Any) -> Any:
    """The SES event an SNS notification carries (its ``Message``, JSON text); a payload
    that is no SNS envelope is the event itself (SES events kept from elsewhere)."""
    if isinstance(payload, dict) and payload.get("Type") == "Notification":
        text = payload.get("Message")
        if not isinstance(text, str):
            raise IntakeError("the SNS notification has no Message")
        try:
            return json.loads(text)
        except (json.JSONDecodeError, RecursionError):
            raise IntakeError("the SNS notification's Message is not JSON") from None
    return payload


def _unwrapped(payload: Any, keys: tuple[str, ...]) -> dict[str, Any]:
    if not isinstance(payload, dict):
        raise IntakeError("an event must be a JSON object")
    event: dict[str, Any] = payload
    for key in keys:
        inner = event.get(key)
        if isinstance(inner, dict):
            event = inner
    return event


def _first(event: Mapping[str, Any], paths: tuple[tuple[str, ...], ...]) -> Any:
    """The value at the first of ``paths`` that is present (not null, not empty)."""
    for path in paths:
        value = _at(event, path)
        if value is not None and value != "":
            return value
    return None


def _at(value: Any, path: tuple[str, ...]) -> Any:
    for step in path:
        if isinstance(value, dict):
            value = value.get(step)
        elif isinstance(value, list) and step.isdigit() and int(step) < len(value):
            value = value[int(step)]
        else:
            return None
    return value


def _bot_word(value: Any) -> str | None:
    """The provider's machine flag as one word: SendGrid's true, Mailgun's "apple"..."""
    if value is None or value is False or value == "":
        return None
    return "true" if value is True else str(value)[:40]


def _names(paths: tuple[tuple[str, ...], ...]) -> str:
    return " or ".join(".".join(p) for p in paths) or "field"
