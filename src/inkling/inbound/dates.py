"""The date an out-of-office reply says its writer is back (or away until).

No helpdesk reads it (Zammad, FreeScout and Chatwoot stop at the headers); Inkling does so
a nudge can wait until the person is back. The phrases and month names are data
(``autoreply.toml``); this module only reads dates written after such a phrase:
``1 December``, ``December 1st, 2026``, ``3. Dezember``, ``3 de diciembre de 2026``,
``12/01/2026``, ``3.12.2026``, ``2026-12-01``. A date without a year takes the year that
puts it on or after the mail's own date.
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from functools import cache

from inkling.inbound.rules import AutoReplyRules, autoreply_rules

_WINDOW = 60  # characters after the phrase in which the date must start
_ISO = r"(?P<iso_y>20\d\d)-(?P<iso_m>\d{1,2})-(?P<iso_d>\d{1,2})"
_NUMERIC = r"(?P<n1>\d{1,2})(?P<sep>[./-])(?P<n2>\d{1,2})(?:(?P=sep)(?P<n3>\d{4}|\d{2})\b)?"
_DAY = r"(?P<day>\d{1,2})(?:st|nd|rd|th|er|e|º|ª|\.)?"
_YEAR = r"(?:,?\s*(?:de\s+|del\s+)?(?P<year>20\d\d)\b)?"


@cache
def _date_pattern() -> re.Pattern[str]:
    names = sorted(autoreply_rules().months, key=len, reverse=True)
    month = "(?P<month>" + "|".join(re.escape(n) for n in names) + r")\.?"
    month2 = "(?P<month2>" + "|".join(re.escape(n) for n in names) + r")\.?"
    day_month = rf"{_DAY}\s*(?:de\s+|of\s+)?{month}(?![a-zà-ÿ]){_YEAR}"
    month_day = (
        rf"{month2}(?![a-zà-ÿ])\s+(?P<day2>\d{{1,2}})(?:st|nd|rd|th)?\b"
        r"(?:,?\s*(?P<year2>20\d\d)\b)?"
    )
    return re.compile(rf"(?<![\d.])(?:{_ISO}|{day_month}|{month_day}|{_NUMERIC})", re.IGNORECASE)


def return_date(text: str, sent: date | None) -> str | None:
    """The ISO date after the first return phrase of ``text`` that is followed by a date."""
    rules = autoreply_rules()
    flat = " ".join(line for line in text.splitlines() if not line.lstrip().startswith(">"))
    flat = " ".join(flat.split())[:4000].lower()
    reference = sent or date.today()
    best: tuple[int, str] | None = None
    for rule in rules.until:
        for phrase in rule.pattern.finditer(flat):
            found = _date_after(flat, phrase.end(), rule.numeric, reference, rules)
            if found and (best is None or phrase.start() < best[0]):
                best = (phrase.start(), found)
                break
    return best[1] if best else None


def _date_after(
    text: str, start: int, numeric: str, reference: date, rules: AutoReplyRules
) -> str | None:
    window = text[start : start + _WINDOW]
    # the date must come before the sentence ends
    window = re.split(r"[!?;]|(?<=[a-zà-ÿ]{5})\.\s", window, maxsplit=1)[0]
    for match in _date_pattern().finditer(window):
        found = _to_date(match, numeric, reference, rules)
        if found:
            return found.isoformat()
    return None


def _to_date(
    match: re.Match[str], numeric: str, reference: date, rules: AutoReplyRules
) -> date | None:
    groups = match.groupdict()
    year: int | None
    if groups["iso_y"]:
        year, month, day = int(groups["iso_y"]), int(groups["iso_m"]), int(groups["iso_d"])
    elif groups["month"] or groups["month2"]:
        name = (groups["month"] or groups["month2"]).lower()
        month = rules.months[name]
        day = int(groups["day"] or groups["day2"])
        found_year = groups["year"] or groups["year2"]
        year = int(found_year) if found_year else None
    else:
        first, second = int(groups["n1"]), int(groups["n2"])
        if groups["sep"] == "." or numeric == "dmy" or first > 12:
            day, month = first, second
        else:
            month, day = first, second
        third = groups["n3"]
        year = None if not third else int(third) + (2000 if len(third) == 2 else 0)
        if third is None and groups["sep"] != ".":
            return None  # "3/4" alone is too often not a date (a ratio, a ticket number)
    return _valid(year, month, day, reference)


def _valid(year: int | None, month: int, day: int, reference: date) -> date | None:
    try:
        if year is not None:
            return date(year, month, day)
        guess = date(reference.year, month, day)
    except ValueError:
        return None
    # A date without a year is the next such day (a back-date a month ago means next year).
    if guess < reference - timedelta(days=31):
        try:
            guess = guess.replace(year=guess.year + 1)
        except ValueError:  # 29 February
            return None
    return guess
