"""Tests for the anonymisation guard (app/pii.py).

Pure unit tests: no app, no database, no fixtures from conftest. The forms' side
(normalisation, the directory, the guard skipped on refused fields) is in tests/test_forms.py.
"""

from datetime import date
from pathlib import Path

import pytest

from app import pii
from app.pii import KINDS, Finding, KnownPeople, _main, describe, evaluate, find_personal_data

TODAY = date(2026, 11, 28)
CORPUS = Path(__file__).parent / "pii_corpus"


def found(text: str) -> list[tuple[str, str]]:
    return [(f.kind, text[f.start : f.end]) for f in find_personal_data(text, today=TODAY)]


# -- API shape ---------------------------------------------------------------


def test_kinds_have_german_labels():
    assert set(KINDS) == {
        "email",
        "phone",
        "iban",
        "birth_date",
        "address",
        "postcode",
        "name",
        "customer_number",
        "insurance_number",
        "tax_id",
    }
    assert KINDS["phone"] == "eine Telefonnummer"
    assert KINDS["name"] == "einen Namen"


def test_finding_carries_offsets_and_label():
    text = "Bitte Rückruf unter 0170 1234567."
    assert find_personal_data(text, today=TODAY) == [Finding("phone", 20, 32, "eine Telefonnummer")]


def test_empty_text():
    assert find_personal_data("") == []


def test_findings_sorted_and_not_overlapping():
    text = "Frau Kaya, geb. 12.04.1990, wohnhaft Senefelderstraße 20, 63069 Offenbach, Tel. 069 123456."
    findings = find_personal_data(text, today=TODAY)
    assert [f.kind for f in findings] == ["name", "birth_date", "address", "postcode", "phone"]
    for a, b in zip(findings, findings[1:], strict=False):
        assert a.end <= b.start


def test_specific_kind_wins_over_contained_digits():
    # The IBAN contains runs that on their own would look like other numbers.
    assert found("IBAN DE89 3704 0044 0532 0130 00") == [("iban", "DE89 3704 0044 0532 0130 00")]
    assert found("BG 12345BG0012345") == [("customer_number", "12345BG0012345")]


# -- per kind ------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, expected",
    [
        ("Kontakt: ayse.demir87@gmx.de.", "ayse.demir87@gmx.de"),
        ("an s.mueller@jugendhilfe-offenbach.de senden", "s.mueller@jugendhilfe-offenbach.de"),
        ("per Mail an a.kaya(at)gmx.net", "a.kaya(at)gmx.net"),
    ],
)
def test_email(text, expected):
    assert found(text) == [("email", expected)]


def test_email_offsets():
    text = "Mail: m.kowalski@web.de"
    assert find_personal_data(text, today=TODAY) == [Finding("email", 6, 23, KINDS["email"])]


@pytest.mark.parametrize(
    "number",
    [
        "+49 69 80065-123",
        "0049 171 9876543",
        "069/12345678",
        "069 123456",
        "0170 1234567",
        "0170-1234567",
        "(069) 1234-56",
        "+49 (0)69 4711 220",
        "0157 12 34 56 78",
        "+380671234567",
        "(06103) 98 76 54",
    ],
)
def test_phone(number):
    text = f"Erreichbar unter {number}, abends."
    assert found(text) == [("phone", number)]
    finding = find_personal_data(text, today=TODAY)[0]
    assert (finding.start, finding.end) == (17, 17 + len(number))


@pytest.mark.parametrize(
    "text",
    [
        "Termin um 10:00 Uhr, Raum 2.14.",
        "Bewilligt für 06/2026 bis 11/2026.",
        "Miete 1.250,00 € und 350 EUR Nebenkosten.",
        "Hotline 0800 4 5555 00 (kostenlos).",
        "Zeitraum 01.10.–31.10.2026",
    ],
)
def test_phone_look_alikes(text):
    assert found(text) == []


@pytest.mark.parametrize(
    "iban",
    [
        "DE89 3704 0044 0532 0130 00",
        "DE89370400440532013000",
        "AT61 1904 3002 3457 3201",
    ],
)
def test_iban(iban):
    assert found(f"Konto: {iban}.") == [("iban", iban)]


def test_vat_id_is_not_an_iban():
    assert found("Rechnung mit USt-IdNr. DE123456789.") == []


@pytest.mark.parametrize(
    "text, expected",
    [
        ("Geb. 03.05.1987, ledig", "03.05.1987"),
        ("Sie ist am 3.5.87 geboren.", "3.5.87"),
        ("Der Kunde (geb. am 3. Mai 1987) lebt allein.", "3. Mai 1987"),
        ("geboren 1987-05-03 in Aleppo", "1987-05-03"),
        ("Geburtsdatum: 12.11.1974", "12.11.1974"),
        ("Sohn Emil, * 14.02.2009, Gesamtschule", "14.02.2009"),
        ("DOB: 12/03/1985", "12/03/1985"),
        ("Der Vater, 17.09.1959, ist pflegebedürftig.", "17.09.1959"),
    ],
)
def test_birth_date(text, expected):
    # "Sohn Emil" is a name as well; the date is what this test is about.
    assert [f for f in found(text) if f[0] != "name"] == [("birth_date", expected)]


@pytest.mark.parametrize(
    "text",
    [
        "Nächste Fallkonferenz am 14.12.2026 um 10:00 Uhr.",
        "Die Maßnahme läuft bis 31.01.2027.",
        "Termin am 3. Februar 2027.",
        "Im Leistungsbezug seit 01.01.2005.",
        "Beschäftigt von 01.03.2001 bis 30.06.2009.",
        "Ausbildung abgebrochen 15.06.2003.",
        "Der Bescheid vom 15.08.2025 ist bestandskräftig.",
    ],
)
def test_appointment_and_history_dates_are_not_birth_dates(text):
    assert found(text) == []


def test_uncued_date_needs_adult_age_year():
    # A child's or recent date in apposition is not enough without a cue.
    assert found("Termin, 14.12.2026, im Stadtteilbüro.") == []
    assert found("Die Mutter, 02.02.1961, lebt mit im Haushalt.") == [("birth_date", "02.02.1961")]


@pytest.mark.parametrize(
    "text, expected",
    [
        ("Wohnhaft Frankfurter Straße 12, 2. OG", "Frankfurter Straße 12"),
        ("Neue Anschrift: Berliner Str. 5a", "Berliner Str. 5a"),
        ("in der Waldstraße 43 gemeldet", "Waldstraße 43"),
        ("Adresse: Kaiserstr. 8, Hinterhaus", "Kaiserstr. 8"),
        ("im Buchrainweg 22b", "Buchrainweg 22b"),
        ("in der Karl-Marx-Straße 10-12", "Karl-Marx-Straße 10-12"),
        ("in der Mainzer Allee 14", "Mainzer Allee 14"),
        ("in der Sprendlinger Landstraße 80", "Sprendlinger Landstraße 80"),
        ("Sie wohnt Auf der Rosenhöhe 12.", "Auf der Rosenhöhe 12"),
    ],
)
def test_address(text, expected):
    assert found(text) == [("address", expected)]


@pytest.mark.parametrize(
    "text",
    [
        "Die Kurse finden in der Bahnhofstraße statt.",
        "Er war 3 Wochen auf der Straße.",
        "Arbeitsweg 45 Min. je Richtung.",
        "Mentoring 2x monatlich.",
        "Der Praktikumsplatz 1 ist vergeben.",
    ],
)
def test_address_look_alikes(text):
    assert found(text) == []


@pytest.mark.parametrize(
    "text, expected",
    [
        ("Umzug nach 63065 Offenbach.", "63065 Offenbach"),
        ("Umzug nach 63067 Offenbach am Main.", "63067 Offenbach am Main"),
        ("wohnt in 63263 Neu-Isenburg", "63263 Neu-Isenburg"),
        ("nach 01069 Dresden", "01069 Dresden"),
        ("nach 60311 Frankfurt a. M. gezogen", "60311 Frankfurt a. M."),
    ],
)
def test_postcode(text, expected):
    assert found(text) == [("postcode", expected)]


@pytest.mark.parametrize(
    "text",
    [
        "Es stehen 25000 Euro zur Verfügung.",
        "Im Stadtteil leben rund 12000 Menschen.",
        "Die Postleitzahlbereiche 63065 bis 63075 gehören zu Offenbach.",
    ],
)
def test_postcode_look_alikes(text):
    assert found(text) == []


@pytest.mark.parametrize(
    "text, expected",
    [
        ("Kundennummer 123A45678", "123A45678"),
        ("Kd-Nr. 123D456789", "123D456789"),
        ("Kundennr.: 123 D 456789", "123 D 456789"),
        ("BG-Nummer 12345BG0012345", "12345BG0012345"),
        ("BG-Nr. 12345 BG 0012345", "12345 BG 0012345"),
    ],
)
def test_customer_number(text, expected):
    assert found(text) == [("customer_number", expected)]


@pytest.mark.parametrize(
    "text, expected",
    [
        ("SV-Nummer 65 170839 J 003", "65 170839 J 003"),
        ("RV-Nr.: 65170839J003", "65170839J003"),
    ],
)
def test_insurance_number(text, expected):
    assert found(text) == [("insurance_number", expected)]


def test_insurance_number_needs_plausible_birth_date():
    assert found("Code 65 173939 J 003") == []  # month 39


@pytest.mark.parametrize(
    "text, expected",
    [
        ("Steuer-ID 12 345 678 901", "12 345 678 901"),
        ("IdNr 86 095 742 719 laut Lohnabrechnung", "86 095 742 719"),
        ("Die Steueridentifikationsnummer lautet 12345678901.", "12345678901"),
        ("Übermittelt wurde 47036892816.", "47036892816"),  # valid check digit, no cue
        ("Steuernummer 013/815/08153", "013/815/08153"),
    ],
)
def test_tax_id(text, expected):
    assert found(text) == [("tax_id", expected)]


def test_eleven_digit_number_without_cue_needs_checksum():
    assert found("Die Ticketnummer 20261201001 betrifft das Portal.") == []


@pytest.mark.parametrize(
    "text, expected",
    [
        ("Frau Yılmaz hat den Termin wahrgenommen.", "Yılmaz"),
        ("Laut Herrn Dr. Weber ist das möglich.", "Weber"),
        ("Fr. Nowak war motiviert.", "Nowak"),
        ("Hr. Popescu spricht Rumänisch.", "Popescu"),
        ("Hr Yilmaz hat die Nachweise vergessen.", "Yilmaz"),
        ("Familie Al-Haddad wohnt beengt.", "Al-Haddad"),
        ("Fam. Lewandowski-Berger", "Lewandowski-Berger"),
        ("Frau Prof. Schäfer-Lindner hat ein Attest ausgestellt.", "Schäfer-Lindner"),
        ("Die Kundin Frau Tesfaye Ghebremedhin möchte einen Kurs.", "Tesfaye Ghebremedhin"),
        ("Mit Frau Dr. med. Hoffmann gesprochen.", "Hoffmann"),
        ("Ansprechpartnerin ist Frau van der Berg.", "van der Berg"),
        ("Herr El Amrani möchte den Führerschein.", "El Amrani"),
        ("Herr und Frau Mahmoud kamen gemeinsam.", "Mahmoud"),
        ("Das Gutachten von Dr. Krämer liegt vor.", "Krämer"),
        ("Die Kundin Ayşe Demir ist nicht erschienen.", "Ayşe Demir"),
        ("Die Tochter Selin (14) möchte ein Praktikum.", "Selin"),
        ("Ihr Ehemann heißt Oleksandr Bondarenko.", "Oleksandr Bondarenko"),
        ("Ein Nachbar namens Gheorghe hilft.", "Gheorghe"),
        ("Frau Đorđević hat die Abrechnung nicht eingereicht.", "Đorđević"),
        ("Herr Koch von der Wohnungsbaugesellschaft", "Koch"),  # surname that is a noun
    ],
)
def test_name(text, expected):
    assert found(text) == [("name", expected)]


def test_name_offsets_exclude_salutation():
    text = "Gespräch mit Frau Şahin."
    assert find_personal_data(text, today=TODAY) == [Finding("name", 18, 23, KINDS["name"])]


@pytest.mark.parametrize(
    "text",
    [
        "Die Frau vom Jobcenter hat den Antrag erläutert.",
        "Das Angebot richtet sich an Frauen und Männer.",
        "Er ist wieder Herr der Lage.",
        "Liebe Frau Kollegin, die Unterlagen folgen.",
        "Die Anfrage ging an die Frau Bürgermeisterin.",
        "Eine alleinerziehende Frau Anfang 30 mit zwei Kindern.",
        "Ein Herr von der Suchtberatung war anwesend.",
        "Der Kurs findet Di. und Fr. Vormittag statt.",
        "Wochenplan: Mo. Sprachkurs, Fr. Bewerbungstraining.",
        "Das Jugendamt gewährt der Familie Hilfe zur Erziehung.",
        "Wir geben der Frau Bescheid.",
        "Sehr geehrte Damen und Herren, anbei das Protokoll.",
        "Die Maßnahme heißt Perspektive Arbeit.",
        "Die Dr.-Ludwig-Schule bietet einen Abendkurs an.",
        "Die Schuldnerberatung der Caritas und das Diakonische Werk.",
        "Der Fall FK-2026-0042, § 16a SGB II, Art. 9 DSGVO.",
        "Stadtteilbüro Nordend, Mathildenviertel, Lauterborn, Kaiserlei.",
        "Herr Dr.",
    ],
)
def test_not_a_name(text):
    assert found(text) == []


# -- describe() -------------------------------------------------------------------


def test_describe_masks_the_excerpt():
    text = "Bitte Rückruf unter 0170 1234567."
    messages = describe(find_personal_data(text, today=TODAY), text)
    assert messages == ["Enthält vermutlich eine Telefonnummer: „0170 …“"]
    assert "1234567" not in messages[0]


def test_describe_never_echoes_short_values_in_full():
    text = "Herr Ng kommt morgen."
    messages = describe(find_personal_data(text, today=TODAY), text)
    assert messages == ["Enthält vermutlich einen Namen: „N …“"]


def test_describe_one_message_per_finding_in_order():
    text = "Frau Kaya, geb. 12.04.1990, Mail kaya@web.de"
    messages = describe(find_personal_data(text, today=TODAY), text)
    assert messages == [
        "Enthält vermutlich einen Namen: „Ka …“",
        "Enthält vermutlich ein Geburtsdatum: „12.0 …“",
        "Enthält vermutlich eine E-Mail-Adresse: „kaya …“",
    ]


def test_describe_drops_duplicate_messages():
    text = "Fr. Schmidt u. Hr. Schmidt"
    findings = find_personal_data(text, today=TODAY)
    assert len(findings) == 2
    assert describe(findings, text) == ["Enthält vermutlich einen Namen: „Sch …“"]


def test_describe_without_findings():
    assert describe([], "Nichts Persönliches.") == []


# -- corpus ------------------------------------------------------------------------


def test_corpus_is_large_enough():
    result = evaluate(CORPUS, today=TODAY)
    assert result.positives >= 70
    assert result.negatives >= 70
    round2 = evaluate(CORPUS / "round2", today=TODAY)
    assert round2.positives >= 80 and round2.negatives >= 80
    heldout = evaluate(CORPUS / "heldout", today=TODAY)
    assert heldout.positives >= 60 and heldout.negatives >= 60


# The figures reached when round 2 was closed (issue 12): a change that loses a detection
# or adds a false alarm fails here. Raise them when the guard gets better; never tune on
# the held-out part (see tests/pii_corpus/heldout/positive.txt).
FIGURES = [
    # folder, positive sentences, detected at least, negative sentences, false alarms at most
    ("", 134, 133, 128, 0),
    ("round2", 86, 86, 85, 0),
    ("heldout", 60, 59, 60, 0),
]


@pytest.mark.parametrize("folder, positives, detected, negatives, alarms", FIGURES)
def test_corpus_figures_do_not_fall_back(folder, positives, detected, negatives, alarms):
    result = evaluate(CORPUS / folder, today=TODAY)
    missed = "\n".join(f"  {n}: {s}" for n, s in result.misses)
    false_alarms = "\n".join(f"  {n}: {s}" for n, s, _ in result.false_alarms)
    assert (result.positives, result.negatives) == (positives, negatives)
    assert result.positives - len(result.misses) >= detected, f"missed:\n{missed}"
    assert len(result.false_alarms) <= alarms, f"false alarms:\n{false_alarms}"


def test_evaluation_counts_per_kind():
    result = evaluate(CORPUS / "round2", today=TODAY)
    assert result.recall_by_kind["name"] == (71, 71)
    assert result.recall_by_kind["phone"] == (10, 10)
    assert sum(total for total, _ in result.recall_by_kind.values()) == result.positives


def test_cli_evaluate_exit_codes(capsys):
    assert _main(["--evaluate", str(CORPUS), str(CORPUS / "round2"), str(CORPUS / "heldout"), "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "recall" in out and "false-alarm rate" in out
    assert out.count("== ") == 3
    assert "name" in out and "71/71" in out
    # An impossible threshold makes the command fail.
    assert _main(["--evaluate", str(CORPUS), "--max-false-alarms", "-1"]) == 1


# -- round 2: names without a cue, numbers by the field's libraries (issue 12) ------------


@pytest.mark.parametrize(
    "text, expected",
    [
        ("Emine Doğan war heute pünktlich im Stadtteilbüro.", ["Emine Doğan"]),
        ("Nach Auskunft der Migrationsberatung hat Bogdan Lewandowski den Kurs begonnen.", ["Bogdan Lewandowski"]),
        ("Kundin Nowak bringt die Unterlagen nach.", ["Nowak"]),
        ("Ihr Bruder Tarek hilft bei der Wohnungssuche.", ["Tarek"]),
        ("Die Kinder Lena und Tim gehen in die Kita.", ["Lena", "Tim"]),
        ("Mia, Finn und Jonas sind 4, 7 und 9 Jahre alt.", ["Mia", "Finn", "Jonas"]),
        ("Tesfaye Ghebremedhin ist seit zwei Jahren hier.", ["Tesfaye Ghebremedhin"]),  # not in the gazetteer
        ("Laut Kita ist Leonie häufig krank.", ["Leonie"]),
        ("Die Lehrerin von Emre hat angerufen.", ["Emre"]),
        ("Karl Wagner war nicht erreichbar.", ["Karl Wagner"]),  # a surname that is also a noun
        ("Die Kinder heißen Noah und Emilia.", ["Noah", "Emilia"]),
    ],
)
def test_names_without_a_cue(text, expected):
    assert found(text) == [("name", name) for name in expected]


@pytest.mark.parametrize(
    "text",
    [
        "Im Mai beginnt die nächste Maßnahme im Nordend.",
        "Die Lage ist ernst, aber der Ernst der Lage ist allen bewusst.",
        "Sie hat frank und frei gesagt, dass sie nicht will.",
        "Ab August ist der Kitaplatz in Tempelsee gesichert.",
        "Die Rose am Fenster war ein Geschenk.",
        "In Bürgel, Bieber, Rumpenheim, Lauterborn und im Kaiserlei fehlen Hortplätze.",
        "Bitte der Kundin Bescheid geben.",
        "Kunde Anfang 40, alleinstehend.",
        "Der Internationale Bund und die Deutsche Bahn bieten Praktika an.",
        "Nach Rücksprache mit dem Ärztlichen Dienst ist Teilzeit möglich.",
        "Die Maßnahme Kompass Plus läuft zwölf Wochen.",
        "Lang kommt die Rückmeldung nicht mehr.",
    ],
)
def test_ordinary_words_stay_quiet(text):
    assert found(text) == []


@pytest.mark.parametrize(
    "text, number",
    [
        ("Unter 0 61 04 / 12 34 5 ist sie vormittags erreichbar.", "0 61 04 / 12 34 5"),
        ("Rückruf bitte unter 0170 12 34 56 7.", "0170 12 34 56 7"),
        ("Mobil +49 (0) 176 23 45 67 89, nur nachmittags.", "+49 (0) 176 23 45 67 89"),
        ("Nummer des Vaters: 0 1 7 6 / 1 2 3 4 5 6 7", "0 1 7 6 / 1 2 3 4 5 6 7"),
    ],
)
def test_grouped_phone_numbers(text, number):
    assert found(text) == [("phone", number)]


def test_dates_are_no_phone_numbers_though_libphonenumber_knows_the_area_code():
    # 0211 is Düsseldorf: without the dot check "02.11.2026" would be a valid number.
    assert found("Die Anmeldung erfolgte am 02.11.2026.") == []


def test_the_directory_people_are_not_flagged():
    known = KnownPeople(
        ["Berna Bildung (Demo)", "Fatih Fallmanager"], ["info@bildungswerk.example"], ["Frauenberatung Lilith"]
    )
    text = (
        "Frau Bildung nimmt teil, Rückfragen an Berna Bildung oder info@bildungswerk.example; "
        "Herr Fallmanager informiert die Frauenberatung Lilith."
    )
    assert find_personal_data(text, today=TODAY, known=known) == []
    # Without the directory every one of them is a finding.
    assert {f.kind for f in find_personal_data(text, today=TODAY)} == {"name", "email"}


def test_a_first_name_alone_is_flagged_though_staff_share_it():
    known = KnownPeople(["Berna Bildung"])
    text = "Ihre Tochter Berna geht in die Kita."
    assert [(f.kind, text[f.start : f.end]) for f in find_personal_data(text, today=TODAY, known=known)] == [
        ("name", "Berna")
    ]


def test_the_person_is_flagged_beside_the_professionals():
    known = KnownPeople(["Berna Bildung"])
    text = "Frau Bildung hat mit Emine Doğan gesprochen."
    assert [text[f.start : f.end] for f in find_personal_data(text, today=TODAY, known=known)] == ["Emine Doğan"]


def test_published_text_flags_the_directory_people_and_keeps_the_places():
    known = KnownPeople(
        ["Fatih Fallmann", "Berna Maria Bildung (Demo)"], ["fatih.fallmann@example.org"], ["Stadtteilbüro Lauterborn"]
    )
    public = known.for_public()

    def spans(text, k):
        return [(f.kind, text[f.start : f.end]) for f in find_personal_data(text, today=TODAY, known=k)]

    # The whole text a name and nothing else: the guard's own rules need a cue or a verb.
    assert spans("Fatih Fallmann", known) == []
    assert spans("Fatih Fallmann", public) == [("name", "Fatih Fallmann")]
    assert spans("Rückfragen an Maria Bildung", public) == [("name", "Maria Bildung")]
    assert spans("fatih.fallmann@example.org", public) == [("email", "fatih.fallmann@example.org")]
    # A surname alone that is an ordinary word, and the places, stay what they are.
    assert spans("BuT – Bildung und Teilhabe im Stadtteilbüro Lauterborn", public) == []
    # The directory itself is not changed by the published copy.
    assert spans("Rückfragen an Berna Bildung", known) == []


def test_usage_counts_every_call():
    before = (pii.usage.calls, pii.usage.characters)
    find_personal_data("Nichts Persönliches.", today=TODAY)
    assert (pii.usage.calls, pii.usage.characters) == (before[0] + 1, before[1] + 20)


def test_long_adversarial_text_gives_sane_findings():
    # Speed is measured by bench/bench_pii.py, never here; this only shows that a long
    # text of repeated addresses is handled whole, each address once.
    text = "Hauptstraße 1 " * 2000
    findings = find_personal_data(text, today=TODAY)
    assert len(findings) == 2000 and all(f.kind == "address" for f in findings)
