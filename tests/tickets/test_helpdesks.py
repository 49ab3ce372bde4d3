"""Helpdesks' webhook payloads mapped onto the ticket upsert: each helpdesk's own fields and
words become the contract's, what the contract has no field for is kept, and a payload that
names no ticket, or a word the tables do not know, is one clear line."""

from __future__ import annotations

import json
from typing import Any

import pytest

from inkling.errors import TicketError
from inkling.model import Priority, Status
from inkling.tickets.helpdesk_tables import HELPDESKS, helpdesk
from inkling.tickets.helpdesks import HelpdeskOptions, ignored_event, map_payload
from inkling.tickets.upsert import parse_ticket
from tests.conftest import FIXTURES

HELPDESK_FIXTURES = FIXTURES / "helpdesks"


def _fixture(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((HELPDESK_FIXTURES / name).read_text("utf-8"))
    return data


def test_zendesk_trigger_body_maps_every_contract_field() -> None:
    options = HelpdeskOptions(teams={"Billing": "payments"})
    ticket = map_payload("zendesk", _fixture("zendesk-trigger.json"), options)
    assert {k: ticket[k] for k in ("id", "subject", "status", "priority", "team")} == {
        "id": "4123",
        "subject": "Charged twice for my December invoice",
        "status": "open",
        "priority": "urgent",
        "team": "payments",
    }
    assert ticket["assignee"] == "sam@help.example"
    assert ticket["requester"] == "Ana.Ruiz@customer.example"
    assert ticket["created_at"] == 1796374800.0  # 2026-12-04T09:00:00Z
    assert ticket["updated_at"] == 1796375100.0
    assert ticket["source"] == "zendesk"
    assert ticket["tags"] == ["billing", "refund", "vip"]  # {{ticket.tags}} is space-separated
    assert (ticket["group"], ticket["channel"]) == ("Billing", "Mail")
    assert (ticket["helpdesk_status"], ticket["helpdesk_priority"]) == ("Open", "Urgent")


def test_zendesk_event_webhook_maps_capitalised_words_and_keeps_ids() -> None:
    ticket = map_payload("zendesk", _fixture("zendesk-event-status-changed.json"))
    assert (ticket["id"], ticket["status"], ticket["priority"]) == ("4123", "pending", "high")
    assert "team" not in ticket  # a bare group id names no team unless configured
    assert "requester" not in ticket  # event webhooks carry ids, not addresses
    assert ticket["requester_id"] == "8447388090494"
    assert ticket["zendesk_event"] == "zen:event-type:ticket.status_changed"


def test_zendesk_group_id_becomes_a_team_when_configured() -> None:
    options = HelpdeskOptions(teams={"8447320466430": "billing"})
    ticket = map_payload("zendesk", _fixture("zendesk-event-status-changed.json"), options)
    assert ticket["team"] == "billing"


def test_freshdesk_automation_words_and_custom_status() -> None:
    ticket = map_payload("freshdesk", _fixture("freshdesk-automation.json"), received_at=1.8e9)
    assert (ticket["id"], ticket["status"], ticket["priority"]) == ("872", "pending", "normal")
    assert ticket["team"] == "tier 1"
    assert ticket["requester"] == "bo@customer.example"
    assert ticket["tags"] == ["password", "login issue"]  # comma-separated, spaces kept
    assert ticket["updated_at"] == 1.8e9  # no time in the payload: when it arrived


def test_freshdesk_numeric_codes_from_the_api_ticket() -> None:
    ticket = map_payload("freshdesk", _fixture("freshdesk-api-ticket.json"))
    assert (ticket["status"], ticket["priority"]) == ("solved", "urgent")  # 4 Resolved, 4 Urgent
    assert ticket["solved_at"] == ticket["updated_at"]
    assert ticket["channel"] == 1  # Freshdesk's source code, as given


@pytest.mark.parametrize(("status", "expected"), [(2, "open"), (3, "pending"), (5, "closed")])
def test_freshdesk_status_codes(status: int, expected: str) -> None:
    payload = _fixture("freshdesk-api-ticket.json")
    payload["ticket"]["status"] = status
    assert map_payload("freshdesk", payload)["status"] == expected


def test_helpscout_conversation_priority_from_tags_and_mailbox_team() -> None:
    options = HelpdeskOptions(teams={"85": "billing"})
    ticket = map_payload("helpscout", _fixture("helpscout-convo-created.json"), options)
    assert ticket["id"] == "349"  # the number agents see, not the internal id
    assert ticket["conversation_id"] == 2391938111
    assert (ticket["status"], ticket["priority"], ticket["team"]) == ("open", "high", "billing")
    assert ticket["requester"] == "ana@customer.example"
    assert ticket["assignee"] == "sam@help.example"
    assert "message_ids" not in ticket  # Help Scout threads carry no Message-ID


def test_helpscout_priority_tags_are_configurable_and_the_most_urgent_wins() -> None:
    payload = _fixture("helpscout-convo-created.json")
    payload["tags"] = [{"tag": "vip"}, {"tag": "low"}]
    assert map_payload("helpscout", payload)["priority"] == "low"
    options = HelpdeskOptions(priority_tags={"VIP": "urgent"})
    assert map_payload("helpscout", payload, options)["priority"] == "urgent"
    payload["tags"] = [{"tag": "billing"}]
    assert "priority" not in map_payload("helpscout", payload)  # the upsert's default: normal


def test_helpscout_legacy_names() -> None:
    payload = {
        "number": 77,
        "status": "spam",
        "customer": {"email": "x@customer.example"},
        "owner": {"email": "sam@help.example"},
        "mailbox": {"id": 85, "name": "Billing"},
        "modifiedAt": "2026-12-04T10:05:00Z",
        "tags": ["urgent"],
    }
    ticket = map_payload("helpscout", payload)
    assert (ticket["status"], ticket["helpdesk_status"]) == ("closed", "spam")
    assert (ticket["priority"], ticket["team"]) == ("urgent", "billing")
    assert (ticket["requester"], ticket["assignee"]) == ("x@customer.example", "sam@help.example")


def test_freescout_conversation_closed_with_its_time() -> None:
    ticket = map_payload("freescout", _fixture("freescout-convo-status.json"))
    assert (ticket["id"], ticket["status"], ticket["priority"]) == ("1207", "closed", "urgent")
    assert ticket["solved_at"] == ticket["updated_at"] == 1796402710.0
    assert ticket["tags"] == ["shipping", "urgent"]


def test_zammad_expanded_objects_and_the_articles_message_id() -> None:
    ticket = map_payload("zammad", _fixture("zammad-trigger.json"))
    assert ticket["id"] == "31057"  # the number agents see
    assert ticket["zammad_id"] == 57
    assert (ticket["status"], ticket["priority"], ticket["team"]) == ("open", "high", "returns")
    assert ticket["message_ids"] == ["<20261204120001.4f2a@help.example>"]
    assert ticket["created_at"] == pytest.approx(1796385520.213)


def test_zammad_plain_names_and_a_bare_message_id() -> None:
    payload = _fixture("zammad-trigger.json")
    payload["ticket"] |= {"state": "pending reminder", "priority": "1 low", "group": "Sales"}
    payload["article"]["message_id"] = "abc@help.example"
    ticket = map_payload("zammad", payload)
    assert (ticket["status"], ticket["priority"], ticket["team"]) == ("pending", "low", "sales")
    assert ticket["message_ids"] == ["<abc@help.example>"]


@pytest.mark.parametrize(
    "fixture",
    sorted(path.name for path in HELPDESK_FIXTURES.glob("*.json")),
)
def test_every_fixture_passes_the_upserts_own_checks(fixture: str) -> None:
    mapped = map_payload(fixture.split("-")[0], _fixture(fixture), received_at=1.8e9)
    ticket = parse_ticket(mapped)
    assert ticket.id == mapped["id"]
    assert ticket.source == fixture.split("-")[0]
    assert ticket.extra["helpdesk_status"]  # the raw word is kept beside the mapped one


def test_no_ticket_id_is_one_line_naming_where_it_looked() -> None:
    with pytest.raises(TicketError) as caught:
        map_payload("zammad", {"article": {"id": 1}})
    assert str(caught.value) == "zammad payload: no ticket id (looked at ticket.number, ticket.id)"


def test_unknown_status_says_how_to_map_it_and_escapes_it() -> None:
    payload = _fixture("zendesk-trigger.json")
    payload["ticket"]["status"] = "Awaiting\x1b[31m parts"
    with pytest.raises(TicketError) as caught:
        map_payload("zendesk", payload)
    message = str(caught.value)
    assert "\x1b" not in message
    assert message.startswith("zendesk status 'Awaiting\\x1b[31m parts' (at ticket.status)")
    assert "[integrations.zendesk] statuses = " in message
    options = HelpdeskOptions(statuses={"awaiting\x1b[31m parts": "hold"})
    assert map_payload("zendesk", payload, options)["status"] == "hold"


def test_a_bad_time_names_the_helpdesk_and_path() -> None:
    payload = _fixture("helpscout-convo-created.json")
    payload["createdAt"] = "yesterday"
    with pytest.raises(TicketError, match="helpscout createdAt must be ISO 8601"):
        map_payload("helpscout", payload)


def test_events_that_are_not_about_a_conversation_are_ignored() -> None:
    assert ignored_event("helpscout", {"X-HelpScout-Event": "convo.assigned"}) is None
    assert ignored_event("helpscout", {"x-helpscout-event": "customer.created"}) is not None
    assert ignored_event("freescout", {"X-FreeScout-Event": "convo.deleted"}) is not None
    assert ignored_event("zendesk", {"X-HelpScout-Event": "customer.created"}) is None


def test_unknown_helpdesk() -> None:
    with pytest.raises(TicketError, match="no helpdesk named 'kayako'"):
        map_payload("kayako", {})


@pytest.mark.parametrize("name", HELPDESKS)
def test_tables_map_only_onto_inklings_words(name: str) -> None:
    table = helpdesk(name)
    assert set(table.statuses.values()) <= {s.value for s in Status}
    assert set(table.priorities.values()) | set(table.priority_tags.values()) <= {
        p.value for p in Priority
    }
    assert "https://" in table.source, "every table names its source"
    assert table.fields["id"], "every helpdesk needs a path to the ticket id"
