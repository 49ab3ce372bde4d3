"""Chromium's own parsers are the judge: its URL parser for link targets, its TextDecoder
for charset labels and single-byte tables.

Where Inkling tracks a link, the target it redirects to must be, to Chromium, the very URL
the original href is. Inkling may refuse more than Chromium (Chromium accepts a few hosts
the URL Standard refuses, such as a space in a host, or an ``xn--`` label that decodes to
ASCII); those links stay as written, which is safe. It must never track one Chromium
refuses, nor send it elsewhere.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Page, sync_playwright

from inkling.instrument.charsets import lookup, standard_labels
from inkling.instrument.urls import UntrackableURL, to_uri
from tests.e2e.browser import CHROMIUM, CHROMIUM_ARGS
from tests.instrument.test_urls import BROWSER_FORM, HOSTILE, REFUSED

pytestmark = pytest.mark.slow

if not CHROMIUM.exists():
    pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium)", allow_module_level=True)

_PARSE = (
    """(urls) => urls.map((u) => { try { return new URL(u).href; } catch (e) { return null; } })"""
)
# A label the Standard lists that this Chromium does not know yet.
CHROMIUM_LACKS = {"unicode11utf8"}


@pytest.fixture(scope="module")
def page() -> Iterator[Page]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        try:
            yield browser.new_page()
        finally:
            browser.close()


def _chromium_hrefs(page: Page, urls: list[str]) -> list[str | None]:
    result: list[str | None] = page.evaluate(_PARSE, urls)
    return result


def _ours(url: str) -> str | None:
    try:
        return to_uri(url)
    except UntrackableURL:
        return None


def test_tracked_targets_are_the_url_chromium_opens(page: Page) -> None:
    hrefs = [href for href, _ in BROWSER_FORM] + REFUSED + HOSTILE
    targets = [_ours(href) for href in hrefs]
    originals = _chromium_hrefs(page, hrefs)
    redirected = iter(_chromium_hrefs(page, [t for t in targets if t is not None]))
    problems, refused_more = [], 0
    for href, target, original in zip(hrefs, targets, originals, strict=True):
        if target is None:
            refused_more += original is not None
            continue
        landed = next(redirected)
        if original is None:
            problems.append(f"{href!r}: tracked as {target!r}, but Chromium refuses the link")
        elif landed != original:
            problems.append(f"{href!r}: Chromium opens {original!r}, the redirect {landed!r}")
    assert not problems, "\n".join(problems)
    assert refused_more < len(HOSTILE) // 10, "refusing much more than Chromium"


def test_every_refused_link_is_one_chromium_refuses_or_a_known_difference(page: Page) -> None:
    """The REFUSED table is the URL Standard's; Chromium refuses all but a few (listed)."""
    known = {"http://a b.com/", "http://xn--a.example/"}
    for href, original in zip(REFUSED, _chromium_hrefs(page, REFUSED), strict=True):
        assert original is None or href in known, f"Chromium opens {href!r} as {original!r}"


def test_charset_labels_are_the_ones_chromium_knows(page: Page) -> None:
    labels = sorted(standard_labels())
    names: list[str | None] = page.evaluate(
        """(labels) => labels.map((l) => {
            try { return new TextDecoder(l).encoding; } catch (e) { return null; } })""",
        labels,
    )
    for label, name in zip(labels, names, strict=True):
        encoding = lookup(label)
        assert encoding is not None
        if label in CHROMIUM_LACKS:
            continue
        if not encoding.readable:  # TextDecoder refuses "replacement" labels on purpose
            assert name is None, label
        else:
            assert name == encoding.name.lower(), label


def test_single_byte_tables_read_as_chromium_reads_them(page: Page) -> None:
    single_byte = sorted(
        {
            encoding.name
            for encoding in standard_labels().values()
            if encoding.readable and encoding.name not in _MULTI_BYTE
        }
    )
    tables: dict[str, Any] = page.evaluate(
        """(names) => Object.fromEntries(names.map((n) => {
            const d = new TextDecoder(n);
            const t = [];
            for (let b = 0; b < 256; b++) t.push(d.decode(Uint8Array.of(b)));
            return [n, t]; }))""",
        single_byte,
    )
    for name in single_byte:
        encoding = lookup(name)
        assert encoding is not None
        ours = [encoding.read(bytes([byte])) for byte in range(256)]
        assert ours == tables[name], name


_MULTI_BYTE = {
    "UTF-8",
    "UTF-16BE",
    "UTF-16LE",
    "GBK",
    "gb18030",
    "Big5",
    "EUC-JP",
    "ISO-2022-JP",
    "Shift_JIS",
    "EUC-KR",
}
