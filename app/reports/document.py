"""The network report as charts, CSV and PDF; the definitions printed with it."""

import csv
import io

from flask import render_template
from flask_babel import format_decimal
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from app import pdf
from app.reports.charts import bar_chart
from app.reports.network import ANSWERS, OUTCOME_COLUMNS, NetworkReport
from app.reports.suppression import PRIMARY, TOTAL

# What each figure counts (printed in the page, the PDF and described in the README).
DEFINITIONS = [
    (
        _l("Fallkonferenz"),
        _l(
            "Eine Fallkonferenz zählt, wenn sie durchgeführt wurde (Status „durchgeführt“ oder "
            "„abgeschlossen“) und ihr Beginn im Zeitraum liegt; abgesagte und geplante zählen nicht. "
            "Stadtteil ist der Stadtteil des Falls."
        ),
    ),
    (
        _l("Erste Fallkonferenz"),
        _l(
            "Die früheste durchgeführte Fallkonferenz eines Falls. Die Zeit bis dahin zählt in Tagen ab "
            "dem Anlegen des Falls; Median und Quartile werden nur für mindestens so viele Fälle gezeigt, "
            "wie die Sperrgrenze verlangt."
        ),
    ),
    (
        _l("Einladungen und Anwesenheit"),
        _l(
            "Einladungen zu den Fallkonferenzen des Zeitraums, ohne zurückgezogene; „beteiligte "
            "Einrichtungen“ zählt jede Einrichtung einmal."
        ),
    ),
    (
        _l("Maßnahmen"),
        _l(
            "Maßnahmen, die in einer Fallkonferenz des Zeitraums vereinbart wurden, mit ihrem Stand am "
            "Tag des Berichts. Überfällig: vereinbart oder in Arbeit und das Fälligkeitsdatum liegt vor "
            "dem Tag des Berichts. Nach Vermittlungshemmnis zählt eine Maßnahme bei jedem Hemmnis ihres "
            "Falls (Mehrfachnennungen, daher keine Spaltensummen)."
        ),
    ),
    (
        _l("Ergebnisse"),
        _l(
            "Fälle, deren erste Fallkonferenz im Zeitraum lag, nach dem Grund ihres Abschlusses, wenn "
            "sie innerhalb von 6 bzw. von 6 bis 12 Monaten nach dieser Konferenz abgeschlossen wurden. "
            "Liegen die 12 Monate noch nicht hinter dem Berichtstag, sind die Zahlen vorläufig."
        ),
    ),
    (
        _l("Sprechstunden in den Stadtteilen"),
        _l("Noch nicht enthalten: Die Anwendung erfasst Sprechstunden noch nicht."),
    ),
]


def suppression_rule(threshold: int) -> str:
    return _(
        "Geheimhaltung: Jede Zahl unter %(n)s wird als „< %(n)s“ gezeigt (primäre Sperrung). Damit "
        "sie sich nicht aus Zeilen- und Spaltensummen zurückrechnen lässt, werden weitere Zahlen "
        "gesperrt und als „x“ gezeigt (sekundäre Sperrung), bis keine gesperrte Zahl aus den "
        "gezeigten berechnet werden kann. Diagramme zeigen gesperrte Zahlen nicht.",
        n=threshold,
    )


def shown(report: NetworkReport, table, row, col) -> str:
    """A figure as published: the number, "< 5" or "x"."""
    cell = table.cell(row, col)
    if cell.suppressed == PRIMARY:
        return f"< {report.threshold}"
    if cell.suppressed:
        return "x"
    return str(cell.value)


def charts(report: NetworkReport) -> dict:
    """The charts beside the tables (None where a table shows nothing chartable)."""
    t = report.tables
    return {
        "conferences": bar_chart(
            t["conferences"], title=_("Durchgeführte Fallkonferenzen nach Stadtteil"), columns=t["conferences"].columns
        ),
        "answers": bar_chart(t["answers"], title=_("Einladungen nach Art der Einrichtung"), columns=ANSWERS),
        "obstacles": bar_chart(t["obstacles"], title=_("Fälle nach Vermittlungshemmnis")),
        "measures": bar_chart(t["measures"], title=_("Maßnahmen nach Verantwortlichen und Stand")),
        "outcomes": bar_chart(t["outcomes"], title=_("Abschlüsse nach Grund"), columns=OUTCOME_COLUMNS),
    }


def report_csv(report: NetworkReport) -> bytes:
    """Every published figure, one per line (period; table; row; column; value)."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow([_("Zeitraum"), _("Tabelle"), _("Zeile"), _("Spalte"), _("Wert")])
    for table in report.tables.values():
        for row, row_label in table.shown_rows:
            for col, col_label in table.shown_columns:
                writer.writerow(
                    [report.period.label, table.title, str(row_label), str(col_label), shown(report, table, row, col)]
                )
    stats = report.first_conference_days
    if stats is not None and stats.shown:
        for label, value in (
            (_("Median"), stats.median),
            (_("unteres Quartil"), stats.q1),
            (_("oberes Quartil"), stats.q3),
        ):
            writer.writerow(
                [
                    report.period.label,
                    _("Tage bis zur ersten Fallkonferenz"),
                    label,
                    "",
                    format_decimal(value, "#,##0.#"),
                ]
            )
    writer.writerow([report.period.label, _("Geheimhaltung"), suppression_rule(report.threshold), "", ""])
    return "\ufeff".encode() + out.getvalue().encode("utf-8")


class ReportError(Exception):
    pass


def report_pdf(report: NetworkReport, *, organisation: str, generated: str) -> bytes:
    html = render_template(
        "pdf/network_report.html",
        r=report,
        charts=charts(report),
        definitions=DEFINITIONS,
        rule=suppression_rule(report.threshold),
        shown=shown,
        organisation=organisation,
        generated=generated,
        TOTAL=TOTAL,
    )
    try:
        return pdf.render_configured(html)
    except pdf.PdfError as err:
        raise ReportError(str(err)) from None
