"""The charts of the network report drawn as the reader sees them: in the PDF (WeasyPrint's SVG
renderer) each bar has its colour and each figure in a bar its readable colour; the chart text is
left to the table beside it."""

import io
import logging

from pypdf import PdfReader
from pypdf.generic import ContentStream

from app import pdf
from app.reports.charts import STYLE, bar_chart
from app.reports.suppression import Table, protect


def _rgb(hex_colour: str) -> tuple:
    return tuple(round(int(hex_colour[i : i + 2], 16) / 255, 3) for i in (1, 3, 5))


def _fill_colours(pdf_bytes: bytes) -> set:
    reader = PdfReader(io.BytesIO(pdf_bytes))
    colours = set()
    for page in reader.pages:
        for operands, operator in ContentStream(page.get_contents(), reader).operations:
            if operator == b"rg":
                colours.add(tuple(round(float(v), 3) for v in operands))
    return colours


def _table() -> Table:
    t = Table(
        "answers",
        "Einladungen",
        [("a", "Beratungsstelle"), ("b", "Bildungsträger")],
        [("accepted", "zugesagt"), ("declined", "abgesagt")],
        {("a", "accepted"): 12, ("a", "declined"): 7, ("b", "accepted"): 9, ("b", "declined"): 8},
    )
    protect([t], 5)
    return t


def test_pdf_draws_the_bars_in_their_colours_and_no_black_background(app, caplog):
    with app.test_request_context():
        chart = bar_chart(_table(), title="Einladungen nach Art der Einrichtung")
        assert chart is not None
        with caplog.at_level(logging.WARNING, logger="weasyprint"):
            content = pdf.render(
                f"<!doctype html><html lang='de'><body><div>{chart.svg}</div></body></html>",
                static_folder=app.static_folder,
                time_limit=app.config["PDF_TIME_LIMIT"],
                max_html_bytes=app.config["PDF_MAX_HTML_BYTES"],
                max_pages=app.config["PDF_MAX_PAGES"],
            ).content
    # WeasyPrint applied every rule of the chart's style sheet (one it cannot read drops the rest).
    assert [r.getMessage() for r in caplog.records if r.name.startswith("weasyprint")] == []
    colours = _fill_colours(content)
    assert _rgb(STYLE.colors[0]) in colours and _rgb(STYLE.colors[1]) in colours
    assert _rgb(STYLE.background) in colours
    # The figures on the dark blue bars are white.
    assert _rgb(STYLE.value_colors[0]) == (1.0, 1.0, 1.0)


def test_the_bars_read_top_down_like_the_table(app):
    with app.test_request_context():
        svg = bar_chart(_table(), title="Einladungen").svg
    # pygal draws labels bottom-up; the first row of the table must be the top bar, i.e. last drawn.
    assert svg.index("Bildungsträger") < svg.index("Beratungsstelle")
    assert "<script" not in svg and 'id="activate-serie' not in svg
