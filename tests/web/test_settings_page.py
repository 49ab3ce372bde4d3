"""The Settings page over real HTTP (ASGI), built by the composition root as ``inkling
serve`` builds it, on each backend: the workflows with the file's and the dashboard's
policies; a lead's change taking effect on the next message (the sending API, and a
fresh outgoing stack as ``inkling instrument`` makes one), a reset bringing the file's
back, each in the audit log with who did it; opt-outs added and removed; who may see and
change what; the CSRF token; no secret or hash on the page; attacks shown escaped."""

from __future__ import annotations

import asyncio
import html as html_lib
import re
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from starlette.applications import Starlette

from inkling import root
from inkling.api.keys import make_key
from inkling.config import Settings
from inkling.datadir import DataDir
from inkling.model import MessageRecord
from inkling.privacy.policy import Policy, Tracking
from inkling.relay import CopyPlan
from inkling.root import Services
from inkling.store import Store
from inkling.store.webhooks import Subscription, Webhooks
from inkling.tokens import TokenCodec, new_message_id
from inkling.web.settings_page import WorkflowLine, answer
from tests.relay.conftest import BASE_URL
from tests.relay.messages import LINKS, support_reply
from tests.web.test_dashboard import XSS
from tests.web.test_login import PASSWORDS, RIGHT, Browser, sign_in

LEAD, ADMIN, AGENT = "sam@help.example", "ada@help.example", "ana@help.example"
ANN = "ann@customer.example"
#: A workflow whose name is an attack on the page, in the file and set on the page.
ODD = XSS[3]
HOOK_SECRET = "whsec_c2VjcmV0IHRoYXQgbXVzdCBuZXZlciBzaG93"
HOOK_URL = "https://hook-user:hook-pass@hooks.example/in?token=sesame"
CLICK = re.compile(re.escape(BASE_URL) + r"/t/c/")
PIXEL = re.compile(re.escape(BASE_URL) + r"/t/o/")


@dataclass
class Desk:
    """The dashboard and the API of one node, over one store, with a key that sends."""

    settings: Settings
    services: Services
    web: Starlette
    api: FastAPI
    key: str
    addresses: int = 10

    @property
    def store(self) -> Store:
        return self.services.store

    def signed_in(self, email: str) -> Browser:
        self.addresses += 1  # one address each: the sign-in rate limit counts by address
        browser = Browser(self.web, "https://i.test", f"192.0.2.{self.addresses}")
        assert sign_in(browser, email, RIGHT).status_code == 303
        return browser

    def send(self, workflow: str, to: str = ANN) -> MessageRecord:
        """A reply of ``workflow`` through ``POST /api/v1/messages``: its record."""
        body = {
            "to": to,
            "from": "Acme Support <support@acme.example>",
            "subject": "Your refund",
            "html": f'<p>See <a href="{LINKS[0]}">the article</a></p>',
            "workflow": workflow,
        }

        async def call() -> httpx.Response:
            transport = httpx.ASGITransport(app=self.api)
            async with httpx.AsyncClient(transport=transport, base_url="http://i.test") as c:
                return await c.post(
                    "/api/v1/messages", json=body, headers={"Authorization": f"Bearer {self.key}"}
                )

        answer = asyncio.run(call())
        assert answer.status_code == 201, answer.text
        record = self.store.messages.find(answer.headers["x-inkling-id"])
        tracked = bool(CLICK.search(answer.text))
        assert tracked == (record.tracking != Tracking.NONE)
        return record

    def instrument(self, workflow: str) -> MessageRecord:
        """A reply instrumented by a fresh outgoing stack, as ``inkling instrument`` (a
        process of its own) makes one."""
        plan = CopyPlan(new_message_id(), 1_790_000_000, [ANN])
        (copy,) = root.outbound(self.settings, self.services).register(
            support_reply(to=ANN, message_id=f"<{plan.id}@acme.example>"),
            "support@acme.example",
            [plan],
            workflow=workflow,
        )
        return copy.record


@pytest.fixture
def desk(store: Store, data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Desk:
    monkeypatch.chdir(tmp_path)  # no stray inkling.toml
    settings = Settings(
        data_dir=data_dir,
        base_url=BASE_URL,
        workflows={
            "billing": {"tracking": "clicks", "disclosure": True},
            "legal": {"tracking": "none"},
            ODD: {"tracking": "full"},
        },
        workflow_rules=[{"workflow": "returns", "subject": "*return*"}],
        teams={
            "billing": {
                "timezone": "Europe/Berlin",
                "holidays": "DE",
                "playbook": {"nudge_after_days": 3},
            }
        },
        playbook={"hold_hours": 6},
    )
    codec = TokenCodec.for_data_dir(data_dir)
    services = Services(DataDir(data_dir), store, codec, settings.base_url)
    gate = root.access(settings, services)
    flows = root.workflows(settings, services)  # one for the API and the page, as a node has
    shared = root.outbound(settings, services, flows)
    api = root.api(settings, services, shared, gate=gate)
    web = root.dashboard(settings, services, gate, flows=flows)
    for email, role, teams in (
        (LEAD, "lead", ()),
        (ADMIN, "admin", ()),
        (AGENT, "agent", ("billing",)),
    ):
        store.accounts.add_user(email, role, teams, PASSWORDS.hash(RIGHT))
    made = make_key(store.accounts, "helpdesk", ("messages:send", "messages:read"))
    assert made is not None
    return Desk(settings, services, web, api, made.secret)


def _csrf(page: httpx.Response) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert found, page.text
    return found.group(1)


def _post(browser: Browser, path: str, **fields: str) -> httpx.Response:
    """A Settings form sent as the page's own form sends it (with its CSRF token)."""
    token = _csrf(browser.get("/settings"))
    return browser.post(path, data={"csrf_token": token, **fields})


def _text(fragment: str) -> str:
    return html_lib.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", fragment)).strip())


def _section(html: str, anchor: str) -> str:
    start = html.index(f'<h2 id="{anchor}">')
    return html[start : html.index("</section>", start)]


def _rows(fragment: str) -> dict[str, str]:
    """A section's table rows by their header cell, as text."""
    rows = re.findall(
        r"<tr>\s*(?:<td[^>]*>.*?</td>\s*)?<th scope=\"row\"[^>]*>(.*?)</th>(.*?)</tr>",
        fragment,
        re.S,
    )
    return {_text(name).removeprefix("Workflow "): _text(rest) for name, rest in rows}


def test_the_page_lists_each_workflow_with_the_files_and_the_dashboards_policy(
    desk: Desk,
) -> None:
    admin = desk.signed_in(ADMIN)
    assert _post(admin, "/settings/policy", workflow="legal", tracking="clicks").status_code == 303
    page = admin.get("/settings")
    assert page.status_code == 200
    html = page.text
    assert html.count("<h1") == 1
    assert "2 of 4 workflows are tracked less than in full (1 set on this page)." in html
    rows = _rows(_section(html, "workflows"))
    assert list(rows) == sorted(["billing", "legal", "returns", ODD])
    assert rows["billing"].startswith("clicks: links only, no pixel; disclosure line")
    assert "Set in inkling.toml, [workflows.billing]" in rows["billing"]
    assert rows["legal"].startswith("clicks: links only, no pixel")
    assert f"Set on this page by {ADMIN}" in rows["legal"]
    assert "inkling.toml says: none: sent as written" in rows["legal"]
    assert "Reset to inkling.toml's setting" in rows["legal"]
    assert rows["returns"].startswith("full: pixel and links")
    assert "Built in: inkling.toml has no [workflows.returns]" in rows["returns"]
    assert "1 rule below put mail in it" in rows["returns"]
    # each row's form says what applies now
    legal = _section(html, "workflows").split("Workflow </span>legal")[1].split("</tr>")[0]
    assert '<option value="clicks" selected>' in legal and "checked" not in legal
    # the rules, the teams' clocks and thresholds, each saying where it is set
    assert "returns" in _rows(_section(html, "rules")) and "<code>*return*</code>" in html
    teams = _rows(_section(html, "teams"))
    assert teams["billing"].startswith("Europe/Berlin Mon, Tue, Wed, Thu, Fri 09:00-17:00 DE")
    assert "set in inkling.toml, [teams.billing]" in teams["billing"]
    assert "Nudge without a sign of a person (low, normal): 3 business days" in teams["billing"]
    assert teams["default"].startswith("UTC") and "built in" in teams["default"]
    thresholds = _section(html, "playbook")
    assert "[playbook]" in thresholds
    rows = _rows(thresholds)
    assert (
        rows["Hold after a person's click hold_hours"]
        == "6 business hours none: every team uses the default"
    )
    assert rows["Nudge without a sign of a person (low, normal) nudge_after_days"] == (
        "2 business days billing: 3 business days"
    )


def test_who_may_open_the_page_and_change_what(desk: Desk) -> None:
    agent = desk.signed_in(AGENT)
    assert agent.get("/settings").status_code == 403
    token = _csrf(agent.get("/"))
    refused = agent.post(
        "/settings/policy", data={"csrf_token": token, "workflow": "legal", "tracking": "full"}
    )
    assert refused.status_code == 403
    anonymous = Browser(desk.web, "https://i.test", "192.0.2.99")
    assert anonymous.get("/settings").headers["location"] == "/login"
    token = _csrf(anonymous.get("/login"))
    signed_out = anonymous.post("/settings/policy", data={"csrf_token": token, "workflow": "legal"})
    assert (signed_out.status_code, signed_out.headers["location"]) == (303, "/login")
    # a lead sees the policies but changes none (issue 10: policies are an admin's), and
    # neither sees nor changes opt-outs, users, keys or webhooks
    lead = desk.signed_in(LEAD)
    html = lead.get("/settings").text
    assert "Only an admin changes a policy (your role: lead)." in html
    assert 'action="/settings/policy"' not in html and "Reset to inkling.toml" not in html
    for change in ("policy", "policy-reset"):
        refused = _post(lead, f"/settings/{change}", workflow="billing", tracking="none")
        assert refused.status_code == 403
    assert "an admin sees and changes them here" in html and "Stop tracking it" not in html
    assert LEAD not in _section(html, "users") and "helpdesk" not in _section(html, "keys")
    assert _post(lead, "/settings/optout", target=ANN).status_code == 403
    assert desk.store.optouts.all() == []
    assert _post(lead, "/settings/nonsense").status_code == 404
    assert desk.store.policies.all() == []


def test_a_form_without_its_csrf_token_changes_nothing(desk: Desk) -> None:
    lead = desk.signed_in(LEAD)
    lead.get("/settings")
    for fields in ({}, {"csrf_token": "forged"}):
        answer = lead.post(
            "/settings/policy", data={**fields, "workflow": "billing", "tracking": "full"}
        )
        assert answer.status_code == 403 and "did not come from Inkling" in answer.text
    admin = desk.signed_in(ADMIN)
    assert admin.post("/settings/optout", data={"target": ANN}).status_code == 403
    assert desk.store.policies.all() == [] and desk.store.optouts.all() == []
    assert desk.send("billing").tracking == Tracking.CLICKS


def test_a_policy_set_on_the_page_applies_to_the_next_message_and_a_reset_undoes_it(
    desk: Desk,
) -> None:
    assert desk.send("billing").tracking == Tracking.CLICKS  # the file's, first
    admin = desk.signed_in(ADMIN)
    saved = _post(admin, "/settings/policy", workflow="billing", tracking="none")
    assert saved.status_code == 303
    assert saved.headers["location"] == "/settings?done=policy-set&workflow=billing#workflows"
    said = admin.get(saved.headers["location"]).text
    assert "Saved: the next message of billing follows this policy" in said
    for record in (desk.send("billing"), desk.instrument("billing")):
        assert (record.tracking, record.untracked) == (Tracking.NONE, "policy")
    # a workflow the file does not name, set on the page only
    assert (
        _post(
            admin, "/settings/policy", workflow="newsletters", tracking="clicks", read_receipt="on"
        ).status_code
        == 303
    )
    assert desk.send("newsletters").tracking == Tracking.CLICKS
    reset = _post(admin, "/settings/policy-reset", workflow="billing")
    assert reset.headers["location"] == "/settings?done=policy-reset&workflow=billing#workflows"
    assert "billing follows inkling.toml again." in admin.get(reset.headers["location"]).text
    for record in (desk.send("billing"), desk.instrument("billing")):
        assert (record.tracking, record.untracked) == (Tracking.CLICKS, "policy")
    again = _post(admin, "/settings/policy-reset", workflow="billing")
    assert (
        "billing had no policy set here: nothing changed."
        in admin.get(again.headers["location"]).text
    )
    entries = [(e.actor, e.action, e.target) for e in desk.store.audit.entries()]
    assert entries[-3:] == [
        (ADMIN, "policy.set", "workflow billing"),
        (ADMIN, "policy.set", "workflow newsletters"),
        (ADMIN, "policy.reset", "workflow billing"),
    ]
    first = next(e for e in desk.store.audit.entries() if e.action == "policy.set")
    assert first.details == {
        "tracking": "none",
        "read_receipt": False,
        "disclosure": False,
        "was": {"tracking": "clicks", "read_receipt": False, "disclosure": True},
    }


def test_a_form_that_makes_no_policy_changes_nothing_and_says_why(desk: Desk) -> None:
    admin = desk.signed_in(ADMIN)
    cases = {
        ("legal", "none", "on"): "A read receipt needs tracking full or clicks",
        ("", "full", ""): "A workflow needs a name of 1 to 200 characters",
        ("x" * 201, "full", ""): "A workflow needs a name of 1 to 200 characters",
        ("legal", "loud", ""): "Tracking is full, clicks or none",
    }
    for (workflow, tracking, receipt), line in cases.items():
        fields = {"workflow": workflow, "tracking": tracking}
        if receipt:
            fields["read_receipt"] = receipt
        answer = _post(admin, "/settings/policy", **fields)
        assert answer.status_code == 303
        page = admin.get(answer.headers["location"]).text
        assert line in page and "nothing changed" in page
    assert desk.store.policies.all() == []
    assert desk.send("legal").tracking == Tracking.NONE


def test_opt_outs_added_and_removed_on_the_page_take_effect(desk: Desk) -> None:
    admin = desk.signed_in(ADMIN)
    added = _post(admin, "/settings/optout", target=ANN.upper())
    assert added.headers["location"] == "/settings?done=optout-added#optouts"
    page = admin.get(added.headers["location"]).text
    assert "Opted out: its mail goes out untracked from now on" in page
    assert ANN not in added.headers["location"]  # a customer's address is kept out of URLs
    rows = _rows(_section(page, "optouts"))
    assert list(rows) == [ANN] and rows[ANN].startswith("address dashboard")
    record = desk.send("billing")
    assert (record.tracking, record.untracked) == (Tracking.NONE, "opt_out")
    assert desk.send("billing", to="bob@customer.example").tracking == Tracking.CLICKS
    again = _post(admin, "/settings/optout", target=ANN)
    assert "That was opted out already" in admin.get(again.headers["location"]).text
    bad = _post(admin, "/settings/optout", target=XSS[1])
    assert "neither an address" in admin.get(bad.headers["location"]).text
    removed = _post(admin, "/settings/optout-remove", target=ANN)
    assert "Opt-out removed" in admin.get(removed.headers["location"]).text
    assert desk.send("billing").tracking == Tracking.CLICKS
    missing = _post(admin, "/settings/optout-remove", target=ANN)
    assert "There was no such opt-out" in admin.get(missing.headers["location"]).text
    audit = [(e.actor, e.action, e.target) for e in desk.store.audit.entries()]
    assert audit[-3:] == [
        (ADMIN, "optout.add", "an address"),
        (ADMIN, "optout.add", "an address"),
        (ADMIN, "optout.remove", "an address"),
    ]
    assert ANN not in str(desk.store.audit.entries())


def test_no_secret_or_hash_reaches_the_page(desk: Desk) -> None:
    Webhooks(desk.store.database).add(
        Subscription("wh_1", HOOK_URL, ("message.clicked",), HOOK_SECRET, 1_790_000_000.0)
    )
    admin = desk.signed_in(ADMIN)
    html = admin.get("/settings").text
    users = _rows(_section(html, "users"))
    assert users[LEAD].startswith("lead every team") and users[AGENT].startswith("agent billing")
    keys = _rows(_section(html, "keys"))
    assert keys["helpdesk"].startswith("messages:send, messages:read an integration")
    hooks = _section(html, "webhooks")
    assert "<code>https://hooks.example/in</code>" in hooks and "message.clicked" in hooks
    held: list[str] = [desk.key, HOOK_SECRET, "hook-pass", "sesame", "$argon2"]
    held += [u.password or "" for u in desk.store.accounts.users()]
    held += [k.sha256 for k in desk.store.accounts.api_keys()]
    for secret in held:
        assert secret and secret not in html, secret


def test_what_came_from_outside_is_shown_escaped(desk: Desk) -> None:
    desk.store.accounts.add_user(f"{XSS[0]}@help.example", "agent", (XSS[1],), None)
    make_key(desk.store.accounts, f"zendesk {XSS[3]}", ("tickets:write",))
    desk.store.optouts.add("0" * 64, f"{XSS[1]}@customer.example", "address", "page")
    Webhooks(desk.store.database).add(
        Subscription("wh_2", f"https://hooks.example/{XSS[0]}", ("*",), HOOK_SECRET, 1.0)
    )
    admin = desk.signed_in(ADMIN)
    assert _post(admin, "/settings/policy", workflow=XSS[0], tracking="none").status_code == 303
    saved = _post(admin, "/settings/policy", workflow=XSS[1], tracking="clicks")
    page = admin.get(saved.headers["location"])
    html = page.text
    for raw in ("<script>alert", "<img src=x", "<svg onload", 'href="javascript:'):
        assert raw not in html, raw
    assert (
        html.count("<script") == 0
        and "unsafe-inline" not in page.headers["content-security-policy"]
    )
    assert (
        "Saved: the next message of &lt;img src=x onerror=alert(&#39;xss&#39;)&gt; follows" in html
    )
    assert 'value="&#34;&gt;&lt;svg onload=alert(&#39;xss&#39;)&gt;"' in html  # the file's ODD
    assert "&lt;script&gt;alert(&#39;xss&#39;)&lt;/script&gt;@help.example" in html
    assert "&lt;img src=x onerror=alert(&#39;xss&#39;)&gt;@customer.example" in html
    assert "zendesk &#34;&gt;&lt;svg onload" in html
    assert {w.workflow for w in desk.store.policies.all()} == {XSS[0], XSS[1]}
    assert desk.send(XSS[0]).tracking == Tracking.NONE


def test_every_control_is_labelled_and_tables_have_headers(desk: Desk) -> None:
    admin = desk.signed_in(ADMIN)
    desk.store.optouts.add("1" * 64, ANN, "address", "cli")
    html = admin.get("/settings").text
    controls = re.findall(r"<(?:input|select)\b[^>]*>", html)
    labelled = set(re.findall(r'<label for="([^"]+)"', html))
    for control in controls:
        if 'type="hidden"' in control:
            continue
        ident = re.search(r'id="([^"]+)"', control)
        assert ident and ident.group(1) in labelled, control
    assert len(set(re.findall(r'id="([^"]+)"', html))) == len(re.findall(r'id="([^"]+)"', html))
    for table in re.findall(r"<table.*?</table>", html, re.S):
        assert "<caption" in table and '<th scope="col">' in table and '<th scope="row"' in table
    for button in re.findall(r"<button[^>]*>(.*?)</button>", html, re.S):
        assert _text(button), button


def test_the_first_sentence_in_each_case() -> None:
    def line(name: str, tracking: Tracking, overridden: bool = False) -> WorkflowLine:
        return WorkflowLine(name, Policy(tracking), overridden, None, None, None, 0)

    full, none = line("a", Tracking.FULL), line("b", Tracking.NONE, overridden=True)
    assert answer([], None) == "No workflow has a policy of its own: all mail is tracked in full."
    assert answer([full], 0) == "Every workflow is tracked in full."
    assert (
        answer([none], None) == "1 of 1 workflow is tracked less than in full (1 set on this page)."
    )
    assert answer([full, none, line("c", Tracking.CLICKS)], 1) == (
        "2 of 3 workflows are tracked less than in full (1 set on this page); 1 opt-out keeps "
        "mail untracked."
    )
