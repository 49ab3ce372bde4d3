"""The reading's sentence says what people did, and that machines' hits say nothing."""

from __future__ import annotations

from inkling.classify.signatures import UserAgents
from inkling.model import Event, EventKind, InklingId, Verdict, agent_or_none, new_event_id
from inkling.signals.sentence import sentence

OUTLOOK = "Mozilla/4.0 (compatible; ms-office; MSOffice 16; Microsoft Outlook 16.0.17928; Pro)"


def _event(kind: EventKind, verdict: Verdict, agent: str | None, **fields: object) -> Event:
    return Event(
        new_event_id(),
        InklingId("m" * 20),
        kind,
        1.0,
        "GET",
        verdict=verdict,
        agent=agent_or_none(agent),
        **fields,  # type: ignore[arg-type]
    )


def test_people_first_then_what_machines_did() -> None:
    events = [
        _event(EventKind.OPEN, Verdict.HUMAN, "mail_client", user_agent=OUTLOOK),
        _event(EventKind.OPEN, Verdict.HUMAN, "mail_client", user_agent=OUTLOOK),
        *[_event(EventKind.OPEN, Verdict.MACHINE, "apple_mpp", user_agent="Mozilla/5.0")] * 3,
    ]
    assert sentence(events, UserAgents.load()) == (
        "Opened by a person on 2 occasions (Outlook); "
        "3 fetches by Apple's privacy proxy say nothing about reading."
    )


def test_machines_only_is_no_sign_of_a_person() -> None:
    events = [
        _event(EventKind.CLICK, Verdict.MACHINE, "scanner:safelinks", link=0),
        _event(EventKind.CLICK, Verdict.MACHINE, "scanner:safelinks", link=1),
        _event(EventKind.OPEN, Verdict.UNKNOWN, "yahoo_proxy"),
    ]
    assert sentence(events, UserAgents.load()) == (
        "No sign of a person yet; 1 hit could be a person or a machine; "
        "2 link checks by Microsoft Defender Safe Links say nothing about reading."
    )


def test_clicks_by_a_person_count_links_and_clicks() -> None:
    events = [
        _event(EventKind.CLICK, Verdict.HUMAN, "browser", link=0),
        _event(EventKind.CLICK, Verdict.HUMAN, "browser", link=0),
        _event(EventKind.CLICK, Verdict.HUMAN, "browser", link=2),
    ]
    assert sentence(events, UserAgents.load()) == "A person followed 2 links (3 clicks)."


def test_nothing_yet() -> None:
    assert sentence([], UserAgents.load()) == "No opens or clicks recorded yet."
