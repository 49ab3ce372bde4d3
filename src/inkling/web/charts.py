"""Charts drawn on the server: an Altair (Vega-Lite) specification rendered to SVG by
``vl-convert``, so a page shows a real chart with no script and nothing from elsewhere.

Every :class:`Chart` carries its text alternative: a one-sentence summary (the SVG's
label) and the table of the figures it draws, shown beside it for screen readers and
anyone who would rather read numbers. Text in the SVG comes escaped from vl-convert (a
subject line or URL is data, never markup); the page inlines it as given.

The first rendering starts vl-convert's engine (about half a second): :func:`warm_up` does
that on a worker thread when a lead first opens the queue, so no reader waits for it on a
report page, and a node that never draws a chart never starts it.
"""

from __future__ import annotations

import functools
import json
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from markupsafe import Markup, escape

#: UI.md's palette: a person in blue, machines in greys (each named in the legend).
PERSON = "#1d4ed8"
MACHINE = "#6b7280"
TEXT = "#1f2937"
MUTED = "#4b5563"
#: Wide enough for a laptop; the stylesheet scales the SVG down on a phone.
WIDTH, HEIGHT = 640, 220
#: Drawings kept, by their specification (see _drawn).
RENDERED = 64
_FONT = "system-ui, -apple-system, Segoe UI, Roboto, sans-serif"


@dataclass(frozen=True, slots=True)
class Table:
    """The figures a chart draws, as a table (its text alternative)."""

    columns: Sequence[str]
    rows: Sequence[Sequence[object]]


@dataclass(frozen=True, slots=True)
class Chart:
    title: str
    summary: str  # one sentence a screen reader hears instead of the picture
    svg: Markup
    table: Table


def chart(title: str, summary: str, spec: Any, table: Table) -> Chart:
    """A :class:`Chart` from an Altair chart (or a Vega-Lite dict) ``spec``."""
    return Chart(title, summary, render_svg(spec, summary), table)


def render_svg(spec: Any, label: str) -> Markup:
    """The SVG of ``spec``, labelled ``label`` for assistive technology."""
    as_dict = spec if isinstance(spec, dict) else spec.to_dict(validate=False)
    as_dict = {**as_dict, "config": {**_CONFIG, **as_dict.get("config", {})}}
    svg = _drawn(json.dumps(as_dict, sort_keys=True, default=str))
    start = svg.index("<svg") + len("<svg")
    # role and label on the root element: the picture is one image with a name; the
    # stylesheet's class joins vl-convert's own (one class attribute, as HTML wants)
    labelled = f' role="img" aria-label="{escape(label)}"'
    root = (svg[:start] + labelled + svg[start:]).replace('class="marks"', 'class="marks chart"', 1)
    return Markup(root)  # noqa: S704 (vl-convert escapes its text)


@functools.lru_cache(maxsize=RENDERED)
def _drawn(spec: str) -> str:
    """The SVG vl-convert draws for a Vega-Lite specification (JSON text). The same figures
    make the same picture: a page shown again before its figures change is not drawn again
    (a drawing costs 70-170 ms; the cache holds ``RENDERED`` of them, a few MB at most)."""
    import vl_convert

    with _ENGINE:  # vl-convert's engine is one per process; it renders one chart at a time
        return str(vl_convert.vegalite_to_svg(json.loads(spec)))


def warm_up() -> threading.Thread:
    """Start vl-convert's engine and load Altair on a daemon thread, once per process (the
    first chart then costs no more than the rest); later calls return the same thread."""
    global _warming
    with _WARMING_LOCK:
        if _warming is None:
            _warming = threading.Thread(target=_first_chart, name="charts-warm-up", daemon=True)
            _warming.start()
        return _warming


def _first_chart() -> None:
    import altair  # noqa: F401 (loaded here, off a reader's request)

    render_svg({"mark": "point", "data": {"values": [{"x": 1}]}, "encoding": {}}, "warm-up")


_warming: threading.Thread | None = None
_WARMING_LOCK = threading.Lock()


_ENGINE = threading.Lock()
_CONFIG: dict[str, Any] = {
    "background": "white",
    "font": _FONT,
    "view": {"stroke": None},
    "axis": {"labelColor": MUTED, "titleColor": TEXT, "gridColor": "#e5e7eb"},
    "legend": {"labelColor": TEXT, "titleColor": TEXT, "orient": "bottom"},
    "title": {"color": TEXT},
}
