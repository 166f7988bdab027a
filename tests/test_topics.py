"""Tests for the topic hint (app/topics.py).

Pure unit tests: no database; only the English messages use the app (for the locale).
"""

import re
import sys
from pathlib import Path

import pytest
from flask_babel import force_locale

from app import topics
from app.cases.models import DATA_CATEGORIES
from app.pii import find_personal_data
from app.topics import (
    CATEGORIES,
    HELD_OUT,
    PARTS,
    TUNING_PARTS,
    Finding,
    LexiconError,
    _compile,
    _expand,
    _main,
    describe,
    evaluate,
    find_topics,
    missing_categories,
)

CORPUS = Path(__file__).parent / "topic_corpus"


def categories(text: str) -> set[str]:
    return {f.category for f in find_topics(text)}


# -- API shape -------------------------------------------------------------------------


def test_categories_are_the_data_categories_without_the_catch_all():
    assert CATEGORIES == ("work", "health", "addiction", "debt", "housing", "family", "residence")
    assert set(CATEGORIES) == set(DATA_CATEGORIES) - {"general"}


def test_finding_carries_category_offsets_and_word():
    text = "Es bestehen Mietschulden."
    assert find_topics(text) == [
        Finding("debt", 12, 24, "Mietschulden"),
        Finding("housing", 12, 24, "Mietschulden"),
    ]


@pytest.mark.parametrize("text", ["", None, "   ", "Termin am 14.12. um 10 Uhr."])
def test_nothing_to_find(text):
    assert find_topics(text) == []


def test_findings_in_text_order_one_per_category_and_word():
    text = "Bewerbung läuft; Kinderarzt am Montag; Schulden bei der Bank."
    found = [(f.word, f.category) for f in find_topics(text)]
    assert found == [("Bewerbung", "work"), ("Kinderarzt", "health"), ("Kinderarzt", "family"), ("Schulden", "debt")]
    for f in find_topics(text):
        assert text[f.start : f.end] == f.word


def test_expression_spans_its_words_across_a_line_break():
    text = "Es wird\nHäusliche\nGewalt berichtet."
    (finding,) = find_topics(text)
    assert finding.category == "family"
    assert finding.word == "Häusliche Gewalt"
    assert text[finding.start : finding.end] == "Häusliche\nGewalt"


def test_expression_needs_adjacent_words():
    assert categories("Sie sucht eine Stelle als Koch.") == {"work"}
    assert categories("An dieser Stelle. Als Nächstes die Einladung.") == set()
    assert categories("Ein P-Konto ist eingerichtet.") == {"debt"}


# -- inflections and compounds, per category -----------------------------------------

INFLECTIONS = {
    "work": [
        "Zwölf Bewerbungen",
        "Er bewirbt sich",
        "hat sich beworben",
        "Initiativbewerbung",
        "Ausbildungsplatz",
        "Auszubildende",
        "wurde umgeschult",
        "Weiterbildungen",
        "Qualifizierungsmaßnahme",
        "Praktika",
        "Minijob-Basis",
        "jobbt am Wochenende",
        "arbeitet in Teilzeit",
        "hat gearbeitet",
        "Schichtarbeit",
        "Langzeitarbeitslosigkeit",
        "Lagerarbeiter",
        "Erwerbstätigkeit",
        "beruflich",
        "Stellenangebote",
        "Lebenslauf",
        "Arbeitszeugnis",
        "Realschulabschluss",
        "Mindestlohn",
        "Handwerksbetrieb",
        "Probezeit",
        "Erfahrung als Hauswirtschafterin",
        "Busfahrerin",
        "arbeitsuchend",
    ],
    "health": [
        "krank",
        "Krankheit",
        "erkrankt",
        "krankgeschrieben",
        "Krankschreibung",
        "arbeitsunfähig",
        "Rückenbeschwerden",
        "Rückenschmerzen",
        "Psychotherapeutin",
        "diagnostiziert",
        "Reha-Maßnahme",
        "Rehabilitation",
        "Hausärztin",
        "ärztlich",
        "psychisch",
        "Depressionen",
        "Angststörung",
        "schwerbehindert",
        "Medikamente",
        "gesundheitlich",
        "Knieoperation",
        "operiert",
        "Attest",
        "Bandscheibenvorfall",
        "Gutachten",
        "in Behandlung",
        "Untersuchung des Rückens",
        "Probleme mit den Knien",
    ],
    "addiction": [
        "Die Sucht",
        "Suchtberatung",
        "suchtkrank",
        "Spielsucht",
        "alkoholsüchtig",
        "alkoholisiert",
        "Drogenkonsum",
        "drogenabhängig",
        "Abhängigkeit",
        "Alkoholabhängigkeit",
        "Entzug",
        "Entzugsklinik",
        "Entgiftung",
        "Entwöhnung",
        "substituiert",
        "Methadon",
        "abstinent",
        "rückfällig",
        "kifft",
        "trinkt",
        "Trinkverhalten",
        "betrunken",
        "ist trocken",
        "Glücksspiel",
        "Spielautomaten",
    ],
    "debt": [
        "Schulden",
        "Mietschulden",
        "Schuldenberatung",
        "Schuldnerberatung",
        "verschuldet",
        "überschuldet",
        "Überschuldung",
        "schuldet",
        "Umschuldung",
        "Restschuldbefreiung",
        "Gläubiger",
        "Glaeubigern",
        "gepfändet",
        "Lohnpfändung",
        "Pfändungsschutzkonto",
        "Privatinsolvenz",
        "Inkassobüro",
        "Stromsperre",
        "Forderungen",
        "Rückforderung",
        "Raten",
        "Ratenplan",
        "Monatsraten",
        "Dispokredit",
        "Darlehen",
        "Mahnbescheid",
        "Vollstreckung",
        "Mietrückstände",
        "zahlungsunfähig",
        "offene Rechnungen",
        "Rechnung nicht bezahlt",
        "ÜBERSCHULDET",
    ],
    "housing": [
        "Miete",
        "Mietvertrag",
        "Vermieter",
        "Untermiete",
        "Wohnungen",
        "wohnungslos",
        "Wohngeldantrag",
        "wohnt bei der Schwester",
        "Betreutes Wohnen",
        "des betreuten Wohnens",
        "Wohnsitz",
        "Räumungsklage",
        "Zwangsräumung",
        "Obdachlosigkeit",
        "Notunterkunft",
        "Kosten der Unterkunft",
        "Nebenkosten",
        "Umzug",
        "umgezogen",
        "Frauenhaus",
        "auf der Straße",
        "auf der Strasse",
        "Schimmel",
    ],
    "family": [
        "Kind",
        "Kindern",
        "Kleinkind",
        "Kindergeld",
        "Kinderbetreuung",
        "Kitaplatz",
        "Krippe",
        "Hortplatz",
        "Tagesmutter",
        "Pflege von Angehörigen",
        "pflegebedürftig",
        "Pflegegrad",
        "Trennung",
        "getrennt lebend",
        "Alleinerziehend",
        "Großmutter",
        "Elternzeit",
        "Töchter",
        "Geschwister",
        "Ehefrau",
        "verheiratet",
        "geschiedene",
        "Jugendamt",
        "Erziehung",
        "familiär",
        "Kindesunterhalt",
        "Sorgerecht",
        "schwanger",
    ],
    "residence": [
        "Aufenthaltserlaubnis",
        "Aufenthaltstitel",
        "Duldung",
        "geduldet",
        "Beschäftigungsduldung",
        "Sprachkurse",
        "Deutschkurs",
        "Deutschkenntnisse",
        "spricht kaum Deutsch",
        "B1-Niveau",
        "Niveau A2",
        "Ausländerbehörde",
        "ausländischer Abschluss",
        "Integrationskurse",
        "Asylantrag",
        "Flüchtling",
        "geflüchtet",
        "Abschiebung",
        "Einbürgerung",
        "Dolmetscherin",
        "Muttersprache",
        "Staatsangehörigkeit",
        "Herkunftsland",
        "Arbeitserlaubnis",
        "gültiger Pass",
    ],
}


@pytest.mark.parametrize("category, text", [(c, t) for c, texts in INFLECTIONS.items() for t in texts])
def test_inflections_and_compounds(category, text):
    assert category in categories(text)


# -- look-alikes: ordinary case-conference German ---------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "Der Kunde ist nicht schuld daran.",
        "Die Schuld an der Verzögerung liegt bei der Post.",
        "Der Termin wurde entschuldigt abgesagt.",
        "Ohne eigenes Verschulden.",
        "Sie hat das Stadtteilbüro besucht und es telefonisch versucht.",
        "Ein gemeinsamer Termin wird gesucht.",
        "Die Stellungnahme liegt vor.",
        "Die Kosten für die Fahrkarte werden erstattet.",
        "Die Betreuung durch die Fallmanagerin wird fortgesetzt.",
        "Die Arbeitsgruppe trifft sich monatlich.",
        "Die Zusammenarbeit mit dem Träger läuft gut.",
        "Die Agentur für Arbeit lädt ein.",
        "Die Arbeitsvermittlerin nimmt teil.",
        "Das Protokoll in einfacher Sprache.",
        "Die Deutsche Rentenversicherung schreibt.",
        "Wir raten dazu, die Unterlagen vorab zu schicken.",
        "Das ist abhängig von der Einwilligung.",
        "Die Beschwerde über die Bearbeitungsdauer wurde beantwortet.",
        "Zur Sicherung des Lebensunterhalts.",
        "Nach Absprache und Rücksprache mit dem Team.",
        "Die Kooperation mit dem Stadtteilbüro Nordend.",
        "Die Krankenkasse ist informiert.",
        "Die Entscheidung fällt im Team.",
        "Die Vorgeschichte des Falls.",
        "Es lohnt sich, früh Bescheid zu geben.",
        "Eine Herausforderung; die Aufforderung zur Mitwirkung.",
        "Die Mitarbeiterin des Jobcenters und die Sachbearbeiterin.",
        "Die Kundin ist es gewohnt, Termine schriftlich zu bekommen.",
        "Hier pflegen Sie Konten; die Daten werden gepflegt.",
        "Das liegt uns am Herzen.",
        "Die Überweisung von 35 Euro ist eingegangen.",
        "Die Schweigepflichtentbindung liegt vor.",
        "Der Blick wird auf die Ressourcen gelenkt.",
        "Die Integrationsfachkraft des Bildungswerks Main stellt den Fall vor.",
        "Die Räume im Stadtteilbüro sind barrierefrei.",
        "Die Kollegin aus dem Nachbarteam übernimmt die Vertretung.",
        "Der Kooperationsplan wird fortgeschrieben; der Regelbedarf bleibt.",
    ],
)
def test_look_alikes_stay_quiet(text):
    assert find_topics(text) == []


def test_capitalisation_tells_noun_from_verb():
    assert categories("Die Sucht steht im Vordergrund.") == {"addiction"}
    assert categories("Sie sucht Arbeit.") == {"work"}
    assert categories("Die Raten werden gezahlt.") == {"debt"}
    assert categories("Wir raten dazu.") == set()
    assert categories("Der Kunde hat sich verschulden müssen.") == {"debt"}


@pytest.mark.parametrize(
    "word, expected",
    [
        # The longest entry that fits decides, so a look-alike or a more specific compound
        # overrides the stem it contains.
        ("Arbeitsunfähigkeitsbescheinigung", {"health"}),
        ("Umschuldung", {"debt"}),
        ("Pflegefachkraft", {"work"}),
        ("Muttersprache", {"residence"}),
        ("Wohnsitzauflage", {"residence"}),
        ("Familiennachzug", {"residence", "family"}),
        ("Krankenkasse", set()),
        # A word can speak of two categories.
        ("Mietschulden", {"debt", "housing"}),
        ("Kinderarzt", {"family", "health"}),
    ],
)
def test_which_entry_decides(word, expected):
    assert categories(word) == expected


# -- missing_categories ------------------------------------------------------------------

TEXT = "Wohnung gekündigt; Mietschulden, Ratenplan mit den Gläubigern; Bewerbung läuft."


def test_missing_categories_respects_the_tags():
    assert missing_categories(TEXT, ["work"]) == ["debt", "housing"]
    assert missing_categories(TEXT, ["work", "debt"]) == ["housing"]
    assert missing_categories(TEXT, ["work", "debt", "housing"]) == []
    assert missing_categories(TEXT, ["debt", "housing", "work", "health"]) == []


def test_missing_categories_in_register_order_whatever_the_text_order():
    assert missing_categories(TEXT, []) == ["work", "debt", "housing"]


def test_general_covers_no_topic_and_unknown_tags_are_ignored():
    assert missing_categories(TEXT, ["general"]) == ["work", "debt", "housing"]
    assert missing_categories(TEXT, ["unknown", "work"]) == ["debt", "housing"]


def test_missing_categories_without_text():
    assert missing_categories("", ["work"]) == []
    assert missing_categories(None, []) == []


# -- describe ----------------------------------------------------------------------------


def test_describe_names_topic_words_and_category():
    text = "Mietschulden ca. 3.000 €, Ratenplan mit den Gläubigern abstimmen."
    assert describe(text, ["debt"]) == [
        "Der Text erwähnt vermutlich Schulden („Mietschulden“, „Ratenplan“, „Gläubigern“). "
        "Kategorie „Schulden“ ergänzen?"
    ]


def test_describe_one_message_per_missing_category_in_register_order():
    messages = describe(TEXT, missing_categories(TEXT, ["work"]))
    assert messages == [
        "Der Text erwähnt vermutlich Schulden („Mietschulden“, „Ratenplan“, „Gläubigern“). "
        "Kategorie „Schulden“ ergänzen?",
        "Der Text erwähnt vermutlich Wohnen („Wohnung“, „Mietschulden“). Kategorie „Wohnen“ ergänzen?",
    ]


def test_describe_quotes_each_word_once_and_at_most_three():
    text = "Schulden, schulden, SCHULDEN; Pfändung, Inkasso, Gläubiger."
    (message,) = describe(text, ["debt"])
    assert "(„Schulden“, „Pfändung“, „Inkasso“, …)" in message


def test_describe_skips_categories_the_text_does_not_speak_of():
    assert describe(TEXT, ["health", "family"]) == []
    assert describe(TEXT, []) == []
    assert describe("", ["debt"]) == []


def test_describe_in_english(app):
    with app.test_request_context(), force_locale("en"):
        assert describe("Es bestehen Mietschulden.", ["debt"]) == [
            "The text probably mentions Debt (“Mietschulden”). Add the category “Debt”?"
        ]


# -- the lexicon -------------------------------------------------------------------------


def test_every_category_but_the_catch_all_has_a_lexicon():
    assert set(topics._LEXICON) == set(CATEGORIES)


def test_endings_are_spelled_out():
    assert _expand("Rücken(s)") == ["Rücken", "Rückens"]
    assert _expand("betrunken(e|en|er)") == ["betrunken", "betrunkene", "betrunkenen", "betrunkener"]
    assert _expand("*schulden*") == ["*schulden*"]


@pytest.mark.parametrize(
    "lexicon, message",
    [
        ({"debt": "schulden*, !schulden*"}, "both a topic and a look-alike"),
        ({"debt": "auf der straße", "housing": "!auf der straße"}, "both a topic and a look-alike"),
        ({"general": "termin"}, "unknown category"),
        ({"debt": "*"}, "not a lexicon word"),
        ({"debt": "sch*ulden"}, "not a lexicon word"),
        ({"addiction": "*Sucht*"}, "capitalisation only counts"),
        ({"debt": "eins zwei drei vier fünf"}, "up to 4 words"),
        ({"debt": "offene* rechnung"}, "the first one exact"),
    ],
)
def test_inconsistent_lexicon_is_refused(lexicon, message):
    with pytest.raises(LexiconError, match=message):
        _compile(lexicon)


def test_the_same_entry_may_serve_two_categories():
    compiled = _compile({"health": "schwanger*", "family": "schwanger*"})
    (entry,) = compiled.words["schwanger"]
    assert entry.topics == ("health", "family")


# -- the corpus and its figures ------------------------------------------------------------


def _corpus_sentences(part: str) -> dict[str, list[str]]:
    return {
        path.stem: [
            line for line in path.read_text(encoding="utf-8").splitlines() if line.strip() and not line.startswith("#")
        ]
        for path in sorted((CORPUS / part).glob("*.txt"))
    }


# Least sentences per category and neutral ones, per part.
CORPUS_SIZES = {"tuning": (40, 80), "tuning2": (20, 40), "heldout2": (25, 50)}


def test_corpus_is_large_enough_and_held_out_apart():
    assert PARTS == (*TUNING_PARTS, HELD_OUT) == tuple(CORPUS_SIZES)
    parts = {part: _corpus_sentences(part) for part in PARTS}
    for part, (per_category, neutral) in CORPUS_SIZES.items():
        assert set(parts[part]) == {*CATEGORIES, "neutral"}
        for category in CATEGORIES:
            assert len(parts[part][category]) >= per_category
        assert len(parts[part]["neutral"]) >= neutral
    seen_in_tuning = {s for part in TUNING_PARTS for sentences in parts[part].values() for s in sentences}
    assert not seen_in_tuning & {s for sentences in parts[HELD_OUT].values() for s in sentences}


def test_corpus_holds_no_personal_data():
    for part in PARTS:
        for name, sentences in _corpus_sentences(part).items():
            flagged = [s for s in sentences if find_personal_data(s)]
            assert not flagged, f"{part}/{name}.txt: {flagged}"


# The figures reached (found/sentences per category, false alarms/neutral sentences); they
# may only get better. tuning2 is held-out round 3 (measured once against commit b644586:
# work 18, health 20, addiction 22, debt 19, housing 22, family 21, residence 22 of 25, false
# alarms 4/50, 2/50 since e91b0d1), tuned on from commit 619a54a. heldout2 (round 4) was
# written in commit 5e4c778 before that tuning and is never tuned on; before it (lexicon of
# 5e4c778) it stood at work 16/31, health 21, addiction 21, debt 23, housing 19, family 28,
# residence 25 of 30, false alarms 4/62. Its figures below are the generalised lexicon's
# (commit 24a2827) without having been tuned on it; they stay below the 90 % target.
REACHED = {
    "tuning": (
        {
            "work": (84, 85),
            "health": (85, 85),
            "addiction": (84, 85),
            "debt": (85, 85),
            "housing": (85, 85),
            "family": (85, 85),
            "residence": (85, 85),
        },
        (1, 170),
    ),
    "tuning2": (
        {
            "work": (23, 25),
            "health": (25, 25),
            "addiction": (25, 25),
            "debt": (25, 25),
            "housing": (24, 25),
            "family": (24, 25),
            "residence": (25, 25),
        },
        (0, 50),
    ),
    "heldout2": (
        {
            "work": (23, 31),
            "health": (24, 30),
            "addiction": (26, 30),
            "debt": (26, 30),
            "housing": (22, 30),
            "family": (29, 30),
            "residence": (30, 30),
        },
        (2, 62),
    ),
}


@pytest.fixture(scope="module")
def evaluation():
    return evaluate(CORPUS)


@pytest.mark.parametrize("part", PARTS)
def test_figures_stay_at_the_levels_reached(evaluation, part):
    result = evaluation[part]
    recall, (alarms, neutral) = REACHED[part]
    # The held-out sentences are not shown, so that nobody tunes on them by accident.
    show = part != HELD_OUT
    for category, (found, total) in recall.items():
        missed = "\n".join(f"  {n}: {s}" for n, s in result.misses[category]) if show else "(not shown)"
        assert result.sentences[category] == total, f"{part}/{category}: sentences added or removed"
        assert result.recall(category) >= found / total - 1e-9, f"{part}/{category} missed:\n{missed}"
    wrong = "\n".join(f"  {n}: {s}" for n, s, _ in result.false_alarms) if show else "(not shown)"
    assert result.neutral == neutral, f"{part}/neutral: sentences added or removed"
    assert result.false_alarm_rate <= alarms / neutral + 1e-9, f"{part} false alarms:\n{wrong}"


@pytest.mark.parametrize("part", TUNING_PARTS)
def test_tuning_parts_meet_the_targets(evaluation, part):
    # Only the parts tuned on; the held-out part is pinned above at what it honestly reached.
    result = evaluation[part]
    assert all(result.recall(c) >= 0.90 for c in CATEGORIES)
    assert result.false_alarm_rate <= 0.05


def test_cli_evaluate_prints_both_parts_and_sets_the_exit_code(capsys):
    assert _main(["--evaluate", str(CORPUS), "--min-recall", "0.5", "--max-false-alarms", "0.1"]) == 0
    out = capsys.readouterr().out
    assert "tuning (" in out and "tuning2 (" in out and "heldout2 (" in out
    assert "recall" in out and "false alarms" in out
    # The held-out sentences are not shown, so that nobody tunes on them by accident.
    assert f"{HELD_OUT}/" not in out
    assert _main(["--evaluate", str(CORPUS), "--max-false-alarms", "-1"]) == 1


def test_cli_checks_a_text(capsys):
    assert _main(["Es", "bestehen", "Mietschulden."]) == 1
    assert "debt" in capsys.readouterr().out
    assert _main(["Termin", "am", "Montag."]) == 0


# -- linear time ---------------------------------------------------------------------------

_REPEATS = {re._constants.MAX_REPEAT, re._constants.MIN_REPEAT}
if hasattr(re._constants, "POSSESSIVE_REPEAT"):
    _REPEATS.add(re._constants.POSSESSIVE_REPEAT)


def _opcodes(tree):
    for op, av in tree:
        yield op, av
        stack = [av]
        while stack:
            item = stack.pop()
            if isinstance(item, re._parser.SubPattern):
                yield from _opcodes(item)
            elif isinstance(item, (tuple, list)):
                stack.extend(item)


def test_the_matching_regex_has_no_repetition():
    # Only single characters (literals, or a class where alternatives differ in one
    # character), alternation and anchors: a match attempt at any position ends after at
    # most as many characters as the longest entry has.
    tree = re._parser.parse(topics._COMPILED.pattern.pattern)
    ops = {op for op, _av in _opcodes(tree)}
    assert not ops & _REPEATS
    assert ops <= {
        re._constants.LITERAL,
        re._constants.IN,
        re._constants.BRANCH,
        re._constants.SUBPATTERN,
        re._constants.AT,
    }


@pytest.mark.parametrize("pattern", [topics._WORD, topics._GAP])
def test_word_and_gap_patterns_repeat_one_character_class(pattern):
    ((op, (_lo, _hi, body)),) = re._parser.parse(pattern.pattern)
    assert op in _REPEATS
    assert [sub_op for sub_op, _ in body] == [re._constants.IN]


def _traced_lines(text: str) -> int:
    """Lines of app/topics.py executed by find_topics(text): the Python-side work."""
    count = 0
    filename = topics.__file__

    def tracer(frame, event, _arg):
        nonlocal count
        if frame.f_code.co_filename != filename:
            return None
        if event == "line":
            count += 1
        return tracer

    previous = sys.gettrace()
    sys.settrace(tracer)
    try:
        find_topics(text)
    finally:
        sys.settrace(previous)
    return count


@pytest.mark.parametrize(
    "make_text",
    [
        # distinct words (the per-call cache cannot help), each with stems of two categories
        lambda n: " ".join(f"Mietschulden{i} Kinderarzt{i} Termin{i}" for i in range(n)),
        # one long word made of stems
        lambda n: "schuldenabhängig" * n,
        # the first word of an expression followed by a long gap, again and again
        lambda n: ("offene" + " " * 50 + "Termine ") * n,
    ],
    ids=["distinct-words", "one-long-word", "expression-gaps"],
)
def test_work_grows_linearly_with_the_text(make_text):
    small, large = _traced_lines(make_text(500)), _traced_lines(make_text(2000))
    assert large <= 4.4 * small, (small, large)


def test_a_long_text_is_handled():
    text = "Es bestehen Mietschulden; die Kinderbetreuung ist ungeklärt. " * 6_500  # about 400 KB
    assert len(text) > 390_000
    assert len(find_topics(text)) == 3 * 6_500
