"""Charts of the network report: SVG drawn on the server by pygal, no JavaScript.

Every chart shows only published figures: a suppressed cell is left out of the chart (pygal
skips ``None``), never drawn as a bar; its table beside the chart says "< 5" or "x". The SVG
is cleaned of pygal's script (tooltips) and served as an image with a text alternative on the
page, and inline in the PDF, where WeasyPrint draws it as vectors.
"""

import base64
import re
from dataclasses import dataclass

import pygal
from flask_babel import gettext as _
from pygal.style import Style

from app.reports.suppression import Table

# KERN UX's blue, then colours that stay apart for the common colour-vision deficiencies
# (Okabe–Ito), each against white with at least 3:1 contrast.
STYLE = Style(
    background="#ffffff",
    plot_background="#ffffff",
    foreground="#171a2b",
    foreground_strong="#171a2b",
    foreground_subtle="#5c5f70",
    font_family='"Fira Sans", "DejaVu Sans", sans-serif',
    label_font_size=13,
    major_label_font_size=13,
    legend_font_size=13,
    value_font_size=12,
    title_font_size=15,
    colors=("#0b4b8c", "#d55e00", "#009e73", "#cc79a7", "#8a6d00", "#56595f"),
    # The figure printed in each bar, readable on its colour (contrast at least 4.5:1).
    value_colors=("#ffffff", "#000000", "#000000", "#000000", "#ffffff", "#ffffff"),
    opacity="1",
    opacity_hover="1",
    transition="0s",
)

_SCRIPT = re.compile(r"<script\b.*?</script>", re.S)
_COMMENT = re.compile(r"<!--.*?-->", re.S)
_STYLE = re.compile(r"(<style\b[^>]*>)(.*?)(</style>)", re.S)
# With ``no_prefix`` pygal leaves the chart's own rules without a selector (``{font-family:…}``).
# Browsers skip such a rule; WeasyPrint's SVG renderer then drops every rule after it, and each
# shape falls back to black fill. The rules are meant for the whole chart: ``svg`` selects it.
_EMPTY_SELECTOR = re.compile(r"(^|\})(\s*)\{")
# Targets of pygal's script, the same in every chart: in the PDF, where the charts share one
# document, they would be duplicate ids.
_SCRIPT_IDS = re.compile(r' id="activate-serie-\d+"')


def _fix_style(match: re.Match) -> str:
    return match.group(1) + _EMPTY_SELECTOR.sub(r"\1\2svg{", match.group(2)) + match.group(3)


@dataclass(frozen=True)
class Chart:
    svg: str  # an <svg> element, no script
    alt: str  # what it shows, for the image's text alternative

    @property
    def data_uri(self) -> str:
        return "data:image/svg+xml;base64," + base64.b64encode(self.svg.encode()).decode()


def bar_chart(table: Table, *, title: str, columns=None, rows=None, stacked: bool = True) -> Chart | None:
    """A horizontal bar per row of ``table`` (stacked by ``columns``): None when nothing is shown."""
    rows = rows if rows is not None else table.rows
    columns = columns if columns is not None else table.columns
    series = [(label, [table.cell(r, c).shown for r, _l in rows]) for c, label in columns]
    if not any(v for _label, values in series for v in values):
        return None
    kind = pygal.HorizontalStackedBar if stacked and len(columns) > 1 else pygal.HorizontalBar
    chart = kind(
        style=STYLE,
        title=title,
        js=[],
        disable_xml_declaration=True,
        no_prefix=True,
        width=720,
        height=max(220, 90 + 34 * len(rows)),
        show_legend=len(columns) > 1,
        legend_at_bottom=True,
        legend_at_bottom_columns=min(len(columns), 4),
        print_values=True,
        print_zeroes=False,
        print_values_position="center",
        show_y_guides=False,
        truncate_label=-1,
        truncate_legend=-1,
        margin=12,
    )
    # pygal draws the first row at the bottom: reversed, the bars read top-down like the table.
    chart.x_labels = [str(label) for _r, label in reversed(rows)]
    for label, values in series:
        chart.add(str(label), list(reversed(values)))
    svg = _STYLE.sub(_fix_style, _COMMENT.sub("", _SCRIPT.sub("", chart.render(is_unicode=True))))
    svg = _SCRIPT_IDS.sub("", svg)
    # Named for assistive technology when inlined (PDF); on the page the <img> carries the alt text.
    svg = svg.replace("<svg ", f'<svg role="img" aria-label="{_attr(title)}" ', 1)
    shown = ", ".join(str(label) for label, _v in series)
    return Chart(
        svg, _("%(title)s. Balkendiagramm (%(series)s); die Zahlen stehen in der Tabelle.", title=title, series=shown)
    )


def _attr(text: str) -> str:
    return text.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;").replace(">", "&gt;")
