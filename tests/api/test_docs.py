"""The API's browsable docs work offline: everything the page loads is served by Inkling
itself, from the installed package, and nothing comes from a CDN."""

from __future__ import annotations

import re

from tests.api.test_send import Api
from tests.api.test_send import api as api
from tests.api.test_send import api_factory as api_factory


def test_the_docs_page_loads_nothing_from_elsewhere(api: Api) -> None:
    page = api.get("/api/docs")
    assert page.status_code == 200
    loaded = re.findall(r'(?:src|href)=["\']([^"\']+)', page.text) + re.findall(
        r"url: ?'([^']+)'", page.text
    )
    assert loaded, page.text
    assert not [url for url in loaded if re.match(r"(https?:)?//", url)], loaded
    for url in loaded:
        assert api.get(url).status_code == 200, url
