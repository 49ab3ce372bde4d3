"""What an imported mail event says about a person: the same verdicts the inbound parser
gives the mail it reads (``inbound/recording.py``), here from the line's details.

A reply or a read receipt is a person's; a complaint is a person's too (someone pressed
"spam"); an auto-reply, a bounce and a delivery report are a machine's and say nothing
about reading.
"""

from __future__ import annotations

from inkling.model import Agent, Event, EventKind, Verdict

#: Kind -> (verdict, agent, reason). Read-receipt dispositions that show nothing are below.
MAIL_VERDICTS: dict[EventKind, tuple[Verdict, Agent, str]] = {
    EventKind.REPLY: (Verdict.HUMAN, Agent.REPLY, "the customer wrote back"),
    EventKind.COMPLAINT: (
        Verdict.HUMAN,
        Agent.COMPLAINT,
        "the recipient reported the message as spam",
    ),
    EventKind.READ_RECEIPT: (Verdict.HUMAN, Agent.READ_RECEIPT, "a read receipt says displayed"),
    EventKind.AUTOREPLY: (
        Verdict.MACHINE,
        Agent.AUTOREPLY,
        "an automatic reply: says nothing about reading",
    ),
    EventKind.BOUNCE: (Verdict.MACHINE, Agent.BOUNCE, "the message bounced"),
    EventKind.DELIVERED: (
        Verdict.MACHINE,
        Agent.DSN,
        "the receiving server accepted the message",
    ),
}
#: Read-receipt dispositions (RFC 8098) that do not say the message was shown to anyone.
NOT_SHOWN = ("deleted", "denied", "failed", "processed")


def judge_mail(event: Event) -> Event:
    """``event`` (a mail event) with its verdict, agent and reasons set."""
    verdict, agent, reason = MAIL_VERDICTS[event.kind]
    details = event.details
    if event.kind is EventKind.READ_RECEIPT:
        disposition = details.get("disposition", "displayed")
        reason = f"a read receipt says {disposition}"
        if disposition in NOT_SHOWN:
            verdict = Verdict.UNKNOWN
    elif event.kind is EventKind.BOUNCE:
        reason = _bounce_reason(details)
    elif event.kind is EventKind.AUTOREPLY and details.get("until"):
        reason = f"an automatic reply (back {details['until']}): says nothing about reading"
    event.verdict, event.agent = verdict, agent
    event.reasons = [reason, f"reported by {details.get('source', 'an import')}"]
    return event


def _bounce_reason(details: dict[str, str]) -> str:
    said = " ".join(filter(None, (details.get("status"), details.get("reason"))))
    if details.get("final") == "false":
        return f"delivery delayed ({said}): the mail system still tries"
    if details.get("class") == "hard":
        return f"bounced ({said}): nobody will read it"
    return f"refused for now ({said})"
