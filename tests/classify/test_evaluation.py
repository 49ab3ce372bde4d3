"""The classifier against a realistic support mix, and against the two mistakes that
today's tools make: calling Gmail's proxy a bot, and letting Safe Links pass for a person.

The mix comes from scenarios.py (documented real-world behaviour, not the classifier's
rules); the targets are the team's promises (metrics.TARGETS).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from typing import Any

import pytest

from tests.classify.evaluate import judge, render
from tests.classify.metrics import TARGETS, family
from tests.classify.scenarios import MIX, LabelledHit, generate, published

MESSAGES = 3000
SEED = 20260822
SENT = 1_780_300_000.0
GMAIL_PROXY_UA = (
    "Mozilla/5.0 (Windows NT 5.1; rv:11.0) Gecko Firefox/11.0 (via ggpht.com GoogleImageProxy)"
)
CHROME_WINDOWS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/139.0.0.0 Safari/537.36"
)
EDGE_WINDOWS = CHROME_WINDOWS + " Edg/139.0.0.0"
OUTLOOK_UA = "Microsoft Office/16.0 (Windows NT 10.0; Microsoft Outlook 16.0.17928; Pro)"


def classify(hits: list[dict[str, Any]]) -> list[dict[str, Any]]:
    from inkling.classify import classify_hits  # late: the generator tests run without it

    return classify_hits(hits)


def hit(
    message: str, kind: str, after: float, ip: str, ua: str | None, **extra: Any
) -> dict[str, Any]:
    """An input hit ``after`` seconds after send, in the contract's format."""
    base: dict[str, Any] = {
        "message": message,
        "kind": kind,
        "ts": SENT + after,
        "sent_at": SENT,
        "ip": ip,
        "ua": ua,
        "method": "GET",
        "headers": {},
        "link": None,
        "links_total": 3,
        "honeypot": False,
    }
    return base | extra


@pytest.fixture(scope="module")
def labelled() -> list[LabelledHit]:
    return generate(MESSAGES, SEED)


@pytest.fixture(scope="module")
def report(labelled: list[LabelledHit]) -> dict[str, Any]:
    return judge(labelled, MESSAGES, SEED)


# --------------------------------------------------------------------------- the targets


@pytest.mark.parametrize("target", TARGETS, ids=lambda t: t.figure)
def test_target_holds_on_the_support_mix(report: dict[str, Any], target: Any) -> None:
    row = report["targets"][target.figure]
    assert row["holds"], render(report)


def test_machines_called_human_do_not_rise(report: dict[str, Any]) -> None:
    """Raising human_recall must not let machines through: 11 of the set's 4,993 machine
    hits were called human when the figure was first reported, and no more may be."""
    called_human = sum(
        row["human"] for row in report["agents"].values() if row["truth_verdict"] == "machine"
    )
    assert called_human <= 11, render(report)


def test_human_recall_counts_only_human_verdicts() -> None:
    """The share of people's hits called human: unknown counts against it, as it does for
    the playbook (an unknown hit is no sign of a person)."""
    from tests.classify.metrics import score

    truth = [LabelledHit({}, v, "a", "s") for v in ("human", "human", "human", "machine")]
    verdicts = ["human", "unknown", "machine", "human"]
    report = score(truth, [{"verdict": v, "agent": "a"} for v in verdicts])
    assert report["human_recall"] == pytest.approx(1 / 3)
    assert report["machine_called_human"] == 1.0
    assert report["human_called_machine"] == pytest.approx(1 / 3)


# --------------------------------------------------------------------------- (a) Gmail proxy


GMAIL_PROXY_IPS = ["66.249.84.21", "66.249.93.130", "66.102.8.33", "74.125.210.7"]


@pytest.mark.parametrize("after", [1.5, 3.0, 4.9, 30.0, 900.0, 5 * 3600.0, 3 * 86400.0])
def test_a_lone_gmail_proxy_open_is_a_person_whenever_it_comes(after: float) -> None:
    """Gmail fetches through its proxy when the person opens: even seconds after send."""
    [verdict] = classify([hit("g1", "open", after, GMAIL_PROXY_IPS[0], GMAIL_PROXY_UA)])
    assert (verdict["verdict"], verdict["agent"]) == ("human", "gmail_proxy"), verdict


def test_repeat_gmail_proxy_opens_from_several_google_addresses_are_a_person() -> None:
    opens = [
        hit("g2", "open", after, ip, GMAIL_PROXY_UA)
        for after, ip in zip([2.0, 4.5, 65.0, 7200.0], GMAIL_PROXY_IPS, strict=True)
    ]
    verdicts = classify(opens)
    assert all((v["verdict"], v["agent"]) == ("human", "gmail_proxy") for v in verdicts), verdicts


# --------------------------------------------------------------------------- (b) Safe Links


SAFELINKS_IPS = ["40.107.22.41", "40.107.159.8", "40.94.31.200", "52.100.147.66", "52.101.4.12"]


@pytest.mark.parametrize("links_total", [2, 4, 6])
@pytest.mark.parametrize("with_honeypot", [False, True], ids=["no-honeypot", "honeypot"])
def test_a_safelinks_burst_with_current_chrome_is_a_machine(
    links_total: int, with_honeypot: bool
) -> None:
    """Every link followed 1-3 s after send from Microsoft's ranges, with an ordinary
    current Chrome UA: the UA must not rescue it."""
    burst = [
        hit(
            "s1",
            "click",
            1.0 + 2.0 * n / links_total,
            SAFELINKS_IPS[n % len(SAFELINKS_IPS)],
            CHROME_WINDOWS,
            link=n,
            links_total=links_total,
            headers={"accept-language": "en-US,en;q=0.9"},
        )
        for n in range(links_total)
    ]
    if with_honeypot:
        burst.append(
            hit(
                "s1",
                "click",
                2.2,
                SAFELINKS_IPS[1],
                CHROME_WINDOWS,
                honeypot=True,
                links_total=links_total,
            )
        )
    verdicts = classify(burst)
    assert all(v["verdict"] == "machine" for v in verdicts), verdicts
    assert all(family(v["agent"]) == "scanner" for v in verdicts), verdicts


def test_ranges_used_by_the_focused_tests_are_where_they_say() -> None:
    ranges = published()
    assert {ranges.name_of(ip) for ip in SAFELINKS_IPS} == {"microsoft"}
    assert {ranges.name_of(ip) for ip in GMAIL_PROXY_IPS} == {"google"}
    assert {ranges.name_of(ip) for ip in RESIDENTIAL_IPS} == {None}


# --------------------------------------------------------------------------- (c) waiting customer


RESIDENTIAL_IPS = ["73.162.41.9", "2601:646:8d01:5a30:1c2e:7f4b:9a10:33d2"]


@pytest.mark.parametrize("ip", RESIDENTIAL_IPS, ids=["ipv4", "ipv6"])
@pytest.mark.parametrize("with_burst", [False, True], ids=["alone", "after-safelinks-burst"])
def test_a_waiting_customer_who_clicks_in_6_s_is_a_person(ip: str, with_burst: bool) -> None:
    """Opens in Outlook at once and clicks 6 s after send from home: timing alone never
    makes a person a machine, not even next to a scanner burst on the same message."""
    person = [
        hit("w1", "open", 3.5, ip, OUTLOOK_UA),
        hit("w1", "click", 6.0, ip, EDGE_WINDOWS, link=0),
    ]
    burst = [
        hit("w1", "click", 1.2 + n * 0.6, SAFELINKS_IPS[n], CHROME_WINDOWS, link=n)
        for n in range(3)
    ]
    verdicts = classify(burst + person if with_burst else person)
    assert [v["verdict"] for v in verdicts[-2:]] == ["human", "human"], verdicts
    if with_burst:
        assert [v["verdict"] for v in verdicts[:3]] == ["machine"] * 3, verdicts


# --------------------------------------------------------------------------- the generator


def by_story(labelled: list[LabelledHit]) -> dict[str, list[LabelledHit]]:
    groups: defaultdict[str, list[LabelledHit]] = defaultdict(list)
    for item in labelled:
        groups[item.story.rsplit("/", 1)[-1]].append(item)
    return groups


def test_the_set_is_deterministic() -> None:
    assert [h.hit for h in generate(40, 7)] == [h.hit for h in generate(40, 7)]
    assert [h.hit for h in generate(40, 7)] != [h.hit for h in generate(40, 8)]


def test_every_hit_has_the_contract_fields(labelled: list[LabelledHit]) -> None:
    keys = {"message", "kind", "ts", "sent_at", "ip", "ua", "method", "headers", "link"}
    keys |= {"links_total", "honeypot"}
    for item in labelled:
        h = item.hit
        assert set(h) == keys
        assert h["kind"] in ("open", "click") and h["method"] in ("GET", "HEAD")
        assert h["ts"] > h["sent_at"] and 1 <= h["links_total"] <= 6
        if h["kind"] == "open" or h["honeypot"]:
            assert h["link"] is None
        else:
            assert 0 <= h["link"] < h["links_total"]
        assert item.verdict in ("human", "machine")


@pytest.mark.parametrize(
    ("story", "network"),
    [
        ("safelinks", {"microsoft"}),
        ("apple_mpp", {"apple-proxy"}),
        ("gmail_prefetch", {"google"}),
        ("proofpoint", {None}),
        ("mimecast", {None}),
        ("barracuda", {None}),
        ("person:click", {None}),
        ("person:click:private_relay", {"apple-proxy"}),
    ],
)
def test_addresses_come_from_where_the_sources_say(
    labelled: list[LabelledHit], story: str, network: set[str | None]
) -> None:
    hits = by_story(labelled)[story]
    assert hits
    assert {published().name_of(h.hit["ip"]) for h in hits} == network


def test_people_open_from_their_own_networks_or_their_providers_proxy(
    labelled: list[LabelledHit],
) -> None:
    where = Counter(
        (h.agent, published().name_of(h.hit["ip"])) for h in by_story(labelled)["person:open"]
    )
    assert {network for agent, network in where if agent == "mail_client"} == {None}
    assert {network for agent, network in where if agent == "gmail_proxy"} == {"google"}


def test_the_mix_has_the_documented_shape(labelled: list[LabelledHit]) -> None:
    opens = [h for h in labelled if h.hit["kind"] == "open"]
    mpp = sum(h.agent == "apple_mpp" for h in opens) / len(opens)
    assert 0.40 <= mpp <= 0.50  # Litmus 2022: ~40-50% of opens are MPP
    clients = sum(f.value for k, f in MIX.items() if k.startswith("client."))
    assert clients == pytest.approx(1.0)
    messages = {h.hit["message"] for h in labelled}
    hard = {h.hit["message"] for h in labelled if h.story.startswith("hard:")}
    assert 0.03 <= len(hard) / MESSAGES <= 0.07
    human_clicks = Counter(
        h.hit["message"] for h in labelled if h.verdict == "human" and h.hit["kind"] == "click"
    )
    assert max(human_clicks.values()) <= 2
    assert len(messages) > 0.9 * MESSAGES


def test_scanners_hit_the_honeypot_in_most_but_not_all_bursts(
    labelled: list[LabelledHit],
) -> None:
    bursts: defaultdict[str, bool] = defaultdict(bool)
    for h in labelled:
        if h.agent in ("scanner:safelinks", "scanner:proofpoint", "scanner:mimecast"):
            bursts[h.hit["message"]] |= h.hit["honeypot"]
    share = sum(bursts.values()) / len(bursts)
    assert 0.7 < share < 0.95
