"""The classifier's rules, one behaviour at a time, on hand-written hits.

Addresses are taken from the shipped range snapshot (Apple's Private Relay egress,
Google, Microsoft) or from documentation blocks that are in no published range.
"""

from __future__ import annotations

from typing import Any

import pytest

from inkling.classify import Classifier, Hit, classify_hits
from inkling.classify.browsers import staleness
from inkling.classify.ranges import Networks
from inkling.classify.signatures import UserAgents
from inkling.errors import HitError, InklingError

SENT = 1_796_000_000.0  # 2026-11-30
APPLE_RELAY = "172.225.6.9"
GOOGLE_PROXY = "66.249.84.3"
MICROSOFT = "40.94.3.7"
AMAZON = "3.5.140.2"
HOME = "81.2.69.160"  # in no published range
HOME_V6 = "2a02:c7f:1234:5600::9"

CHROME = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/153.0.0.0 Safari/537.36"
)
OLD_CHROME = CHROME.replace("153.0.0.0", "79.0.3945.88")
SAFARI_IOS = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1"
)
OUTLOOK = "Mozilla/4.0 (compatible; ms-office; MSOffice 16; Microsoft Outlook 16.0.17928; Pro)"
GMAIL_PROXY = (
    "Mozilla/5.0 (Windows NT 5.1; rv:11.0) Gecko Firefox/11.0 (via ggpht.com GoogleImageProxy)"
)
YAHOO = "YahooMailProxy; https://help.yahoo.com/kb/yahoo-mail-proxy-SLN28749.html"


def hit(kind: str, after: float, **fields: Any) -> dict[str, Any]:
    base = {"message": "m1", "kind": kind, "ts": SENT + after, "sent_at": SENT, "ip": HOME}
    return base | fields


def judge(*hits: dict[str, Any]) -> list[dict[str, Any]]:
    return classify_hits(hits)


def test_apple_privacy_proxy_fetch_is_a_machine_with_both_reasons() -> None:
    [result] = judge(hit("open", 2, ip=APPLE_RELAY, ua="Mozilla/5.0"))
    assert (result["verdict"], result["agent"]) == ("machine", "apple_mpp")
    assert any("exactly Mozilla/5.0" in r for r in result["reasons"])
    snapshot = Networks.load().snapshot  # whatever snapshot is shipped, the reason names it
    assert any("Private Relay" in r and snapshot in r for r in result["reasons"])


def test_gmail_proxy_open_is_a_person_even_seconds_after_sending() -> None:
    for after in (3, 40, 86_400):
        [result] = judge(hit("open", after, ip=GOOGLE_PROXY, ua=GMAIL_PROXY))
        assert (result["verdict"], result["agent"]) == ("human", "gmail_proxy"), after


def test_gmail_delivery_fetch_is_a_machine() -> None:
    ua = (
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/42.0.2311.135 Safari/537.36 Edge/12.246 Mozilla/5.0"
    )
    [result] = judge(hit("open", 4, ip=GOOGLE_PROXY, ua=ua))
    assert (result["verdict"], result["agent"]) == ("machine", "gmail_prefetch")


def test_safe_links_burst_is_a_machine_even_with_a_current_chrome() -> None:
    burst = [
        hit("click", 1.2 + n * 0.4, ip=f"40.94.3.{n + 7}", ua=CHROME, link=n, links_total=3)
        for n in range(3)
    ]
    for result in judge(*burst):
        assert (result["verdict"], result["agent"]) == ("machine", "scanner:safelinks")


def test_single_safe_links_click_at_delivery_is_a_machine() -> None:
    [result] = judge(hit("click", 1.5, ip=MICROSOFT, ua=OLD_CHROME, link=0, links_total=1))
    assert result["verdict"] == "machine"
    assert any("Chrome 79" in r for r in result["reasons"])


def test_the_waiting_customer_who_opens_and_clicks_in_seconds_is_a_person() -> None:
    results = judge(
        hit("open", 4, ua=OUTLOOK),
        hit("click", 6, ua=CHROME, link=0, links_total=2),
    )
    assert [r["verdict"] for r in results] == ["human", "human"]


def test_timing_alone_never_makes_a_person_a_machine() -> None:
    """A browser click one second after sending, from a home address, with no open."""
    [result] = judge(hit("click", 1.0, ua=CHROME, link=0, links_total=1))
    assert result["verdict"] != "machine"


def test_safari_through_private_relay_is_a_person() -> None:
    [result] = judge(hit("click", 600, ip=APPLE_RELAY, ua=SAFARI_IOS, link=0, links_total=2))
    assert (result["verdict"], result["agent"]) == ("human", "browser")


def test_honeypot_hit_marks_its_whole_burst() -> None:
    results = judge(
        hit("click", 5, ip="198.51.100.20", ua=CHROME, link=0, links_total=1),
        hit("click", 5.5, ip="198.51.100.21", ua=CHROME, link=None, honeypot=True),
        hit("click", 3600, ip=HOME, ua=SAFARI_IOS, link=0, links_total=1),
    )
    assert [r["verdict"] for r in results] == ["machine", "machine", "human"]
    assert any("hidden link" in r for r in results[0]["reasons"])


def test_every_link_in_seconds_from_one_network_is_a_machine() -> None:
    ua = CHROME.replace("Windows NT 10.0; Win64; x64", "X11; Linux x86_64")
    burst = [
        hit("click", 2 + n * 0.3, ip=f"198.51.100.{30 + n}", ua=ua, link=n, links_total=4)
        for n in range(4)
    ]
    results = judge(*burst)
    assert {(r["verdict"], r["agent"]) for r in results} == {("machine", "scanner")}


def test_a_person_clicking_later_is_not_swept_into_a_scanner_burst() -> None:
    burst = [
        hit("click", 1 + n * 0.3, ip=MICROSOFT, ua=OLD_CHROME, link=n, links_total=3)
        for n in range(3)
    ]
    person = hit("click", 95, ip=HOME, ua=CHROME, link=1, links_total=3)
    results = judge(*burst, person)
    assert [r["verdict"] for r in results] == ["machine"] * 3 + ["human"]


def test_uncertain_open_is_upgraded_by_a_later_person_and_keeps_its_agent() -> None:
    results = judge(
        hit("open", 60, ip="98.136.1.1", ua=YAHOO),
        hit("click", 200, ip=HOME, ua=SAFARI_IOS, link=0, links_total=1),
    )
    assert (results[0]["verdict"], results[0]["agent"]) == ("human", "yahoo_proxy")
    alone = judge(hit("open", 60, ip="98.136.1.1", ua=YAHOO))
    assert (alone[0]["verdict"], alone[0]["agent"]) == ("unknown", "yahoo_proxy")


def test_a_machine_open_is_never_upgraded() -> None:
    results = judge(
        hit("open", 2, ip=APPLE_RELAY, ua="Mozilla/5.0"),
        hit("click", 200, ip=HOME, ua=SAFARI_IOS, link=0, links_total=1),
    )
    assert results[0]["verdict"] == "machine"


@pytest.mark.parametrize(
    ("fields", "agent"),
    [
        ({"method": "HEAD", "ua": CHROME}, None),
        ({"headers": {"Sec-Purpose": "prefetch;prerender"}, "ua": CHROME}, "prefetch"),
        ({"ua": "python-requests/2.32.3"}, "script"),
        ({"ua": "curl/8.5.0"}, "script"),
        ({"ua": "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)"}, "link_preview"),
        ({"ua": "Barracuda Sentinel (EE)"}, "scanner:barracuda"),
        ({"ua": None}, "scanner"),
        ({"ua": CHROME, "ip": AMAZON, "after": 2}, "scanner"),
    ],
)
def test_machine_clicks(fields: dict[str, Any], agent: str | None) -> None:
    after = fields.pop("after", 300)
    [result] = judge(hit("click", after, link=0, links_total=1, **fields))
    assert result["verdict"] == "machine"
    if agent is not None:
        assert result["agent"] == agent


def test_phone_with_bot_in_its_model_name_is_not_a_bot() -> None:
    ua = (
        "Mozilla/5.0 (Linux; Android 10; CUBOT X19) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/152.0.0.0 Mobile Safari/537.36"
    )
    [result] = judge(hit("click", 300, ua=ua, link=0, links_total=1))
    assert result["verdict"] == "human"


def test_ipv6_and_mapped_addresses() -> None:
    results = judge(
        hit("click", 300, ip=HOME_V6, ua=CHROME, link=0, links_total=1),
        hit("open", 2, ip="::ffff:" + APPLE_RELAY, ua="Mozilla/5.0", message="m2"),
    )
    assert results[0]["verdict"] == "human"
    assert any("Private Relay" in r for r in results[1]["reasons"])


def test_output_is_in_input_order_across_interleaved_messages() -> None:
    hits = [hit("open", n, message=f"m{n % 3}", ua=OUTLOOK) for n in range(9)]
    assert [r["message"] for r in classify_hits(hits)] == [h["message"] for h in hits]


def test_staleness_follows_the_calendar() -> None:
    assert staleness(OLD_CHROME, SENT) is not None
    assert staleness(CHROME, SENT) is None
    assert staleness("Mozilla/4.0 (compatible; MSIE 8.0; Windows NT 6.1)", SENT) is not None
    # Chrome 79 was current in early 2020: not stale then.
    assert staleness(OLD_CHROME, 1_578_000_000) is None


def test_same_hits_same_judgements() -> None:
    classifier = Classifier()
    hits = [Hit.from_json(hit("click", 1 + n, ua=CHROME, link=n, links_total=3)) for n in range(3)]
    assert classifier.classify(hits) == classifier.classify(list(hits))


def test_times_may_be_iso_8601_with_an_offset() -> None:
    as_numbers = hit("open", 2, ip=APPLE_RELAY, ua="Mozilla/5.0")
    as_text = as_numbers | {"ts": "2026-11-30T08:13:22Z", "sent_at": "2026-11-30T09:13:20+01:00"}
    assert Hit.from_json(as_text).since_send == 2.0
    with pytest.raises(HitError, match="ISO 8601 time with an offset"):
        Hit.from_json(as_numbers | {"ts": "2026-11-30T08:13:22"})


# --------------------------------------------------------------------------- people left unknown


@pytest.mark.parametrize(
    ("after", "verdict"), [(60, "unknown"), (1800, "unknown"), (3600, "human")]
)
def test_a_yahoo_proxy_fetch_long_after_delivery_is_a_person(after: float, verdict: str) -> None:
    """Whatever Yahoo's proxy may fetch in advance it would fetch at delivery; an hour
    later (delivery delayed by greylisting included) it is serving someone who opened."""
    [result] = judge(hit("open", after, ip="98.136.1.1", ua=YAHOO))
    assert (result["verdict"], result["agent"]) == (verdict, "yahoo_proxy"), result
    if verdict == "human":
        assert any("long after delivery" in r and "1.0 h after" in r for r in result["reasons"])


def test_a_yahoo_proxy_fetch_with_no_send_time_stays_unknown() -> None:
    [result] = judge({"message": "m1", "kind": "open", "ts": SENT + 86_400, "ua": YAHOO})
    assert result["verdict"] == "unknown"


def test_a_person_opening_both_links_days_later_is_a_person() -> None:
    """Both links in tabs within 3 s, 2.4 days after sending, from home: a sweep, but not
    at delivery, when scanners sweep."""
    safari = SAFARI_IOS.replace("iPhone; CPU iPhone OS 18_1 like", "Macintosh; Intel")
    later = 2.4 * 86_400
    results = judge(
        hit("click", later, ip=HOME_V6, ua=safari, link=0, links_total=2),
        hit("click", later + 2.6, ip=HOME_V6, ua=safari, link=1, links_total=2),
    )
    assert [r["verdict"] for r in results] == ["human", "human"], results
    assert any("long after delivery" in r for r in results[0]["reasons"])


def test_the_same_sweep_at_delivery_is_not_a_person() -> None:
    results = judge(
        hit("click", 4.0, ua=CHROME, link=0, links_total=2),
        hit("click", 6.6, ua=CHROME, link=1, links_total=2),
    )
    assert all(r["verdict"] != "human" for r in results), results


def test_a_late_sweep_from_microsoft_with_an_outdated_chrome_is_still_a_machine() -> None:
    """Safe Links also scans when mail is forwarded or reported, long after sending."""
    burst = [
        hit("click", 7200 + n * 0.5, ip=f"40.94.3.{n + 7}", ua=OLD_CHROME, link=n, links_total=2)
        for n in range(2)
    ]
    assert [r["verdict"] for r in judge(*burst)] == ["machine", "machine"]


@pytest.mark.parametrize(
    "ua",
    [
        "Mozilla/4.0 (compatible; Lotus-Notes/6.0; Windows-NT)",
        "Foxmail/7.2.25.228",
        "Mail/3774.500.171.1.1 CFNetwork/1410.0.3 Darwin/22.6.0",
        "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Mailspring/1.13.3 Chrome/114.0.5735.289 Electron/25.8.1 Safari/537.36",
        "eMClient/9.2.2157.0",
    ],
)
def test_opens_by_the_mail_apps_device_detector_lists_are_a_person(ua: str) -> None:
    [result] = judge(hit("open", 5400, ua=ua))
    assert (result["verdict"], result["agent"]) == ("human", "mail_client"), result


WINDOWS_7_CHROME = CHROME.replace("Windows NT 10.0", "Windows NT 6.1").replace("153.", "109.")


def test_the_last_chrome_for_windows_7_is_not_out_of_date_there() -> None:
    assert staleness(WINDOWS_7_CHROME, SENT) is None
    assert staleness(WINDOWS_7_CHROME.replace("6.1", "10.0"), SENT) is not None
    assert staleness(WINDOWS_7_CHROME.replace("109.0.0.0", "79.0.3945.88"), SENT) is not None
    [result] = judge(hit("click", 900, ua=WINDOWS_7_CHROME, link=0, links_total=1))
    assert result["verdict"] == "human", result


def test_the_last_firefox_for_old_macos_is_not_out_of_date_there() -> None:
    old_mac = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10.14; rv:115.0) Gecko/20100101 Firefox/115.0"
    assert staleness(old_mac, SENT) is None
    assert staleness(old_mac.replace("10.14", "10.15"), SENT) is not None


def test_a_late_rule_in_the_signature_table_must_be_complete() -> None:
    table = """
[[signature]]
agent = "yahoo_proxy"
contains = "YahooMailProxy"
weight = 0
reason = "r"
source = "s"
late = { after = 3600, weight = -1 }
"""
    with pytest.raises(InklingError, match="signature 1: 'late' needs exactly"):
        UserAgents.load(table)
