"""The Settings page: how mail is tracked, the playbook's clocks and thresholds, opt-outs,
users, API keys and webhooks, for leads and admins.

Two things change here, each with a form (CSRF token, as every form) and an entry in the
audit log naming who did it: a workflow's policy (tracking, read receipt, disclosure) and
the opt-outs, both ``privacy:admin`` (admins: issue 10 gives policies to admins; a lead
sees the policies and cannot change them), as the API's ``/api/v1/optouts``. A policy set
here overrides the workflow's ``[workflows.NAME]`` in ``inkling.toml`` until it is reset,
and the next message follows it on every path (the relay, ``POST /api/v1/messages``,
``inkling instrument``): at once on this server, within 5 seconds on the others
(``relay/workflows.py``). The page reads the policies through the same
:class:`~inkling.relay.workflows.Workflows` the copies are made with, so it shows what
applies. Everything else belongs in ``inkling.toml`` or a command, and the page says which.

Users, keys and webhooks show to those who administer them, opt-outs (customers'
addresses) to those who hold ``privacy:admin``, as in the API; a password hash, a key's
secret or digest and a webhook's signing secret never reach the page.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, fields
from urllib.parse import urlencode, urlsplit

from inkling.api.access import Principal
from inkling.playbook.teams import DEFAULT_TEAM, Team, Thresholds
from inkling.privacy.optout import audit_words
from inkling.privacy.policy import Policy, Tracking
from inkling.relay.workflows import Setting
from inkling.store import ApiKey, OptOut, SetPolicy, Store, User
from inkling.web.settings_view import SettingsView
from inkling.web.sources import Sources
from inkling.web.when import Moment, moment

#: A workflow's name longer than this is refused (and never echoed back).
MAX_NAME = 200
#: Opt-outs listed at most: past that, ``inkling optout list`` has them all.
MAX_OPTOUTS = 500
#: The opt-outs' ``source`` for those added here.
SOURCE = "dashboard"
TRACKING_WORDS = {
    Tracking.FULL: "full: pixel and links",
    Tracking.CLICKS: "clicks: links only, no pixel",
    Tracking.NONE: "none: sent as written",
}
#: Each threshold: what it means and its unit, as docs/playbook.md says them.
THRESHOLDS = {
    "hold_hours": ("Hold after a person's click", "business hours"),
    "nudge_after_days": ("Nudge without a sign of a person (low, normal)", "business days"),
    "escalate_after_days": ("Escalate without a sign of a person (high, urgent)", "business days"),
    "simplify_opens": ("Simplify after a person's opens, no click, no reply", "opens"),
    "quiet_after_days": ("Check in after a person's click, then quiet", "business days"),
}
#: What a change answers, by the code the page is sent back with: the line, and whether
#: it says that nothing was done. ``{workflow}`` is the workflow's name.
DONE = {
    "policy-set": (
        "Saved: the next message of {workflow} follows this policy (on other servers "
        "within 5 seconds).",
        False,
    ),
    "policy-reset": ("{workflow} follows inkling.toml again.", False),
    "policy-not-set": ("{workflow} had no policy set here: nothing changed.", True),
    "policy-bad-name": (
        f"A workflow needs a name of 1 to {MAX_NAME} characters: nothing changed.",
        True,
    ),
    "policy-bad-tracking": ("Tracking is full, clicks or none: nothing changed.", True),
    "policy-bad-receipt": (
        "A read receipt needs tracking full or clicks (an untracked message is sent as "
        "written): nothing changed.",
        True,
    ),
    "optout-added": ("Opted out: its mail goes out untracked from now on, on every path.", False),
    "optout-already": ("That was opted out already: nothing changed.", True),
    "optout-removed": ("Opt-out removed: its mail is tracked again as its workflow says.", False),
    "optout-missing": ("There was no such opt-out: nothing changed.", True),
    "optout-bad": (
        "That is neither an address (ana@example.com) nor a domain (@example.com): "
        "nothing changed.",
        True,
    ),
}


@dataclass(frozen=True, slots=True)
class Outcome:
    """The one line a change leaves at the top of the page."""

    line: str
    problem: bool
    section: str  # the section it is shown in: "workflows" or "optouts"


@dataclass(frozen=True, slots=True)
class WorkflowLine:
    name: str
    policy: Policy  # what applies now
    overridden: bool  # set on this page
    configured: Policy | None  # inkling.toml's [workflows.NAME], None if it has none
    changed_by: str | None
    changed: Moment | None
    rules: int  # the rules that put mail in it

    @property
    def words(self) -> str:
        return policy_words(self.policy)

    @property
    def file_words(self) -> str:
        if self.configured is None:
            return f"nothing ([workflows.{self.name}] is not there): tracked in full"
        return policy_words(self.configured)


@dataclass(frozen=True, slots=True)
class TeamLine:
    name: str
    timezone: str
    workdays: str
    hours: str
    holidays: str
    where: str  # where it is set
    own: list[str]  # the thresholds it sets itself, in words


@dataclass(frozen=True, slots=True)
class ThresholdLine:
    name: str
    label: str
    value: str  # the [playbook] value, with its unit
    teams: list[str]  # "billing: 2 business days" for each team that sets its own


@dataclass(frozen=True, slots=True)
class OptOutLine:
    target: str | None  # None once the person was erased
    scope: str
    source: str
    added: Moment


@dataclass(frozen=True, slots=True)
class UserLine:
    email: str
    role: str
    teams: str
    created: Moment
    locked: bool
    signs_in: bool  # has a password


@dataclass(frozen=True, slots=True)
class KeyLine:
    name: str
    scopes: str
    owner: str | None
    created: Moment
    last_used: Moment | None


@dataclass(frozen=True, slots=True)
class WebhookLine:
    ident: str
    endpoint: str  # without user, password or query
    events: str
    pending: int
    failed: int
    last_error: str | None


@dataclass(frozen=True, slots=True)
class SettingsPage:
    viewer: Principal
    answer: str
    outcome: Outcome | None
    workflows: list[WorkflowLine]
    rules: list[tuple[int, str, str, str, str]]  # position, workflow, sender, recipient, subject
    teams: list[TeamLine]
    thresholds: list[ThresholdLine]
    #: Whether the viewer may change a workflow's policy (``privacy:admin``).
    may_set_policies: bool
    #: None: the viewer does not hold the scope the section needs.
    optouts: list[OptOutLine] | None
    optouts_total: int
    users: list[UserLine] | None
    keys: list[KeyLine] | None
    webhooks: list[WebhookLine] | None

    @property
    def trackings(self) -> list[tuple[str, str]]:
        """The choices of a policy form's tracking, with their words."""
        return [(tracking.value, words) for tracking, words in TRACKING_WORDS.items()]


@dataclass(frozen=True, slots=True)
class Done:
    """What a change did: the code the page is sent back with, the workflow it was about,
    and the section to show."""

    code: str
    workflow: str | None = None
    section: str = "workflows"

    @property
    def location(self) -> str:
        query = {"done": self.code, **({"workflow": self.workflow} if self.workflow else {})}
        return f"/settings?{urlencode(query)}#{self.section}"


#: A change's work: the view, the store, who asks, the posted form; what it did.
Apply = Callable[[SettingsView, Store, Principal, Mapping[str, str]], Done]


@dataclass(frozen=True, slots=True)
class Change:
    """A form the page posts (``POST /settings/{name}``) and the scope it needs."""

    scope: str
    apply: Apply


def settings_page(
    sources: Sources, principal: Principal, query: Mapping[str, str] | None = None
) -> SettingsPage:
    """The page for ``principal`` (who holds ``playbook:admin``), with the outcome of the
    change that sent them back here (``query``'s ``done`` and ``workflow``)."""
    view = _view(sources)
    at = sources.clock()
    store = sources.store
    workflows = _workflows(view, store, at)
    optouts = view.optouts.all() if principal.can("privacy:admin") else None
    users_admin = principal.can("users:admin")
    return SettingsPage(
        viewer=principal,
        answer=answer(workflows, len(optouts) if optouts is not None else None),
        outcome=outcome(query or {}),
        workflows=workflows,
        rules=[
            (i, r.workflow, r.sender or "", r.recipient or "", r.subject or "")
            for i, r in enumerate(view.workflows.rules, start=1)
        ],
        teams=[_team(sources.teams.team(n), view) for n in sources.teams.names],
        thresholds=_thresholds(sources, view),
        may_set_policies=principal.can(CHANGES["policy"].scope),
        optouts=None if optouts is None else [_optout(o, at) for o in optouts[:MAX_OPTOUTS]],
        optouts_total=len(optouts or ()),
        users=[_user(u, at) for u in store.accounts.users()] if users_admin else None,
        keys=[_key(k, at) for k in store.accounts.api_keys()] if users_admin else None,
        webhooks=_webhooks(view) if principal.can("webhooks:admin") else None,
    )


def answer(workflows: Sequence[WorkflowLine], optouts: int | None) -> str:
    """The page's first sentence: how mail is tracked, in one line."""
    limited = [w for w in workflows if w.policy.tracking is not Tracking.FULL]
    here = sum(1 for w in workflows if w.overridden)
    if not workflows:
        said = "No workflow has a policy of its own: all mail is tracked in full"
    elif not limited:
        said = "Every workflow is tracked in full"
    else:
        noun = "workflow" if len(workflows) == 1 else "workflows"
        verb = "is" if len(limited) == 1 else "are"
        said = f"{len(limited)} of {len(workflows)} {noun} {verb} tracked less than in full"
    if here:
        said += f" ({here} set on this page)"
    if optouts:
        said += f"; {optouts} {'opt-out keeps' if optouts == 1 else 'opt-outs keep'} mail untracked"
    return said + "."


def outcome(query: Mapping[str, str]) -> Outcome | None:
    """The line of the change ``query`` names (None for none or an unknown one)."""
    found = DONE.get(query.get("done", ""))
    if found is None:
        return None
    name = query.get("workflow", "")
    named = name if 0 < len(name) <= MAX_NAME else "the workflow"
    line, problem = found
    section = "optouts" if query["done"].startswith("optout") else "workflows"
    return Outcome(line.replace("{workflow}", named), problem, section)


def policy_words(policy: Policy) -> str:
    """A policy in words: "clicks: links only, no pixel; read receipt; disclosure line"."""
    words = [TRACKING_WORDS[policy.tracking]]
    if policy.read_receipt:
        words.append("read receipt")
    if policy.disclosure:
        words.append("disclosure line")
    return "; ".join(words)


# -- the changes ----------------------------------------------------------------------------


def set_policy(
    view: SettingsView, store: Store, principal: Principal, form: Mapping[str, str]
) -> Done:
    """Set a workflow's policy from the form (``workflow``, ``tracking``, and the boxes
    ``read_receipt`` and ``disclosure``)."""
    name = form.get("workflow", "").strip()
    if not 0 < len(name) <= MAX_NAME or not name.isprintable():
        return Done("policy-bad-name")
    try:
        tracking = Tracking(form.get("tracking", ""))
    except ValueError:
        return Done("policy-bad-tracking", name)
    policy = Policy(tracking, "read_receipt" in form, "disclosure" in form)
    if policy.read_receipt and tracking is Tracking.NONE:
        return Done("policy-bad-receipt", name)
    view.workflows.forget()
    before = view.workflows.policy(name)
    store.policies.set(name, policy, by=principal.name)
    view.workflows.forget()
    details = {**_as_json(policy), "was": _as_json(before)}
    store.audit.record(principal.name, "policy.set", f"workflow {name}", details)
    return Done("policy-set", name)


def reset_policy(
    view: SettingsView, store: Store, principal: Principal, form: Mapping[str, str]
) -> Done:
    """Drop the policy set here for the form's ``workflow``: inkling.toml's applies again."""
    name = form.get("workflow", "").strip()
    if not 0 < len(name) <= MAX_NAME:
        return Done("policy-bad-name")
    if not store.policies.clear(name):
        return Done("policy-not-set", name)
    view.workflows.forget()
    store.audit.record(principal.name, "policy.reset", f"workflow {name}")
    return Done("policy-reset", name)


def add_optout(
    view: SettingsView, store: Store, principal: Principal, form: Mapping[str, str]
) -> Done:
    """Opt the form's ``target`` (an address or ``@domain``) out, as ``inkling optout
    add`` and ``POST /api/v1/optouts`` do."""
    try:
        stored, new = view.optouts.add(form.get("target", ""), source=SOURCE)
    except ValueError:
        return Done("optout-bad", section="optouts")
    store.audit.record(principal.name, "optout.add", audit_words(stored))
    return Done("optout-added" if new else "optout-already", section="optouts")


def remove_optout(
    view: SettingsView, store: Store, principal: Principal, form: Mapping[str, str]
) -> Done:
    """Remove the opt-out of the form's ``target``, as ``inkling optout remove`` and
    ``DELETE /api/v1/optouts/{target}`` do."""
    try:
        stored, removed = view.optouts.remove(form.get("target", ""))
    except ValueError:
        return Done("optout-bad", section="optouts")
    if not removed:
        return Done("optout-missing", section="optouts")
    store.audit.record(principal.name, "optout.remove", audit_words(stored))
    return Done("optout-removed", section="optouts")


#: The forms the page posts, by the last part of their path.
CHANGES: dict[str, Change] = {
    "policy": Change("privacy:admin", set_policy),
    "policy-reset": Change("privacy:admin", reset_policy),
    "optout": Change("privacy:admin", add_optout),
    "optout-remove": Change("privacy:admin", remove_optout),
}


def change_settings(
    sources: Sources, name: str, principal: Principal, form: Mapping[str, str]
) -> Done:
    """Make the change ``name`` (a key of :data:`CHANGES`, its scope checked by the
    caller) from the posted ``form``."""
    return CHANGES[name].apply(_view(sources), sources.store, principal, form)


# -- helpers ----------------------------------------------------------------------------------


def _view(sources: Sources) -> SettingsView:
    if sources.settings is None:
        raise ValueError("the Settings page needs Sources(settings=SettingsView(...))")
    return sources.settings


def _workflows(view: SettingsView, store: Store, at: float) -> list[WorkflowLine]:
    changes = {found.workflow: found for found in store.policies.all()}
    rules: dict[str, int] = {}
    for rule in view.workflows.rules:
        rules[rule.workflow] = rules.get(rule.workflow, 0) + 1
    return [
        _workflow(setting, changes.get(setting.workflow), rules.get(setting.workflow, 0), at)
        for setting in view.workflows.settings()
    ]


def _workflow(setting: Setting, change: SetPolicy | None, rules: int, at: float) -> WorkflowLine:
    change = change if setting.override is not None else None
    return WorkflowLine(
        name=setting.workflow,
        policy=setting.policy,
        overridden=setting.override is not None,
        configured=setting.configured,
        changed_by=change.changed_by if change else None,
        changed=moment(change.changed_at, "UTC", at) if change else None,
        rules=rules,
    )


def _team(team: Team, view: SettingsView) -> TeamLine:
    calendar = team.calendar
    if team.name in view.configured_teams:
        where = f"set in inkling.toml, [teams.{team.name}]"
    elif team.name == DEFAULT_TEAM:
        where = "built in (add [teams.default] to inkling.toml to change it)"
    else:
        where = "set in inkling.toml"
    own = [
        f"{THRESHOLDS[name][0]}: {_amount(name, value)}"
        for name, value in _own(team.thresholds, view.playbook).items()
    ]
    return TeamLine(
        name=team.name,
        timezone=calendar.timezone,
        workdays=", ".join(day.capitalize() for day in calendar.workdays),
        hours=str(calendar.hours),
        holidays=calendar.holidays or "none",
        where=where,
        own=own,
    )


def _thresholds(sources: Sources, view: SettingsView) -> list[ThresholdLine]:
    teams = [sources.teams.team(name) for name in sources.teams.names]
    lines = []
    for name, (label, _) in THRESHOLDS.items():
        own = [
            f"{team.name}: {_amount(name, values[name])}"
            for team in teams
            if name in (values := _own(team.thresholds, view.playbook))
        ]
        lines.append(ThresholdLine(name, label, _amount(name, getattr(view.playbook, name)), own))
    return lines


def _own(thresholds: Thresholds, defaults: Thresholds) -> dict[str, float]:
    """The thresholds a team sets to other values than ``[playbook]``'s."""
    return {
        f.name: getattr(thresholds, f.name)
        for f in fields(Thresholds)
        if getattr(thresholds, f.name) != getattr(defaults, f.name)
    }


def _amount(name: str, value: float) -> str:
    unit = THRESHOLDS[name][1]
    number = f"{value:g}"
    if number == "1":
        unit = unit.removesuffix("s")
    return f"{number} {unit}"


def _optout(found: OptOut, at: float) -> OptOutLine:
    return OptOutLine(found.address, found.scope, found.source, moment(found.created_at, "UTC", at))


def _user(found: User, at: float) -> UserLine:
    return UserLine(
        email=found.email,
        role=found.role,
        teams=", ".join(found.teams) or "every team",
        created=moment(found.created_at, "UTC", at),
        locked=found.locked_until is not None and found.locked_until > at,
        signs_in=found.password is not None,
    )


def _key(found: ApiKey, at: float) -> KeyLine:
    used = found.last_used_at
    return KeyLine(
        name=found.name,
        scopes=", ".join(found.scopes),
        owner=found.owner,
        created=moment(found.created_at, "UTC", at),
        last_used=moment(used, "UTC", at) if used is not None else None,
    )


def _webhooks(view: SettingsView) -> list[WebhookLine]:
    return [
        WebhookLine(
            ident=row.subscription.id,
            endpoint=_without_credentials(row.subscription.url),
            events=", ".join(row.subscription.types),
            pending=row.pending,
            failed=row.failed,
            last_error=row.last_error,
        )
        for row in view.webhooks.counts()
    ]


def _without_credentials(url: str) -> str:
    """An endpoint without user, password or query (either may carry a secret)."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    host = f"[{host}]" if ":" in host else host
    try:
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        port = ""
    return f"{parts.scheme}://{host}{port}{parts.path}"


def _as_json(policy: Policy) -> dict[str, object]:
    return {
        "tracking": policy.tracking.value,
        "read_receipt": policy.read_receipt,
        "disclosure": policy.disclosure,
    }
