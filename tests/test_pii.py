"""Tests for the anonymisation guard (app/pii.py).

Pure unit tests: no app, no database, no fixtures from conftest.
"""
from datetime import date
from pathlib import Path

import pytest

from app.pii import KINDS, Finding, _main, describe, evaluate, find_personal_data

TODAY = date(2026, 11, 28)
CORPUS = Path(__file__).parent / "pii_corpus"


def found(text: str) -> list[tuple[str, str]]:
    return [(f.kind, text[f.start:f.end]) for f in find_personal_data(text, today=TODAY)]


# -- API shape ---------------------------------------------------------------


def test_kinds_have_german_labels():
    assert set(KINDS) == {
        "email", "phone", "iban", "birth_date", "address", "postcode", "name",
        "customer_number", "insurance_number", "tax_id",
    }
    assert KINDS["phone"] == "eine Telefonnummer"
    assert KINDS["name"] == "einen Namen"


def test_finding_carries_offsets_and_label():
    text = "Bitte Rückruf unter 0170 1234567."
    assert find_personal_data(text, today=TODAY) == [
        Finding("phone", 20, 32, "eine Telefonnummer")
    ]


def test_empty_text():
    assert find_personal_data("") == []


def test_findings_sorted_and_not_overlapping():
    text = "Frau Kaya, geb. 12.04.1990, wohnhaft Senefelderstraße 20, 63069 Offenbach, Tel. 069 123456."
    findings = find_personal_data(text, today=TODAY)
    assert [f.kind for f in findings] == ["name", "birth_date", "address", "postcode", "phone"]
    for a, b in zip(findings, findings[1:]):
        assert a.end <= b.start


def test_specific_kind_wins_over_contained_digits():
    # The IBAN contains runs that on their own would look like other numbers.
    assert found("IBAN DE89 3704 0044 0532 0130 00") == [("iban", "DE89 3704 0044 0532 0130 00")]
    assert found("BG 12345BG0012345") == [("customer_number", "12345BG0012345")]


# -- per kind ------------------------------------------------------------------


@pytest.mark.parametrize("text, expected", [
    ("Kontakt: ayse.demir87@gmx.de.", "ayse.demir87@gmx.de"),
    ("an s.mueller@jugendhilfe-offenbach.de senden", "s.mueller@jugendhilfe-offenbach.de"),
    ("per Mail an a.kaya(at)gmx.net", "a.kaya(at)gmx.net"),
])
def test_email(text, expected):
    assert found(text) == [("email", expected)]


def test_email_offsets():
    text = "Mail: m.kowalski@web.de"
    assert find_personal_data(text, today=TODAY) == [Finding("email", 6, 23, KINDS["email"])]


@pytest.mark.parametrize("number", [
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
])
def test_phone(number):
    text = f"Erreichbar unter {number}, abends."
    assert found(text) == [("phone", number)]
    finding = find_personal_data(text, today=TODAY)[0]
    assert (finding.start, finding.end) == (17, 17 + len(number))


@pytest.mark.parametrize("text", [
    "Termin um 10:00 Uhr, Raum 2.14.",
    "Bewilligt für 06/2026 bis 11/2026.",
    "Miete 1.250,00 € und 350 EUR Nebenkosten.",
    "Hotline 0800 4 5555 00 (kostenlos).",
    "Zeitraum 01.10.–31.10.2026",
])
def test_phone_look_alikes(text):
    assert found(text) == []


@pytest.mark.parametrize("iban", [
    "DE89 3704 0044 0532 0130 00",
    "DE89370400440532013000",
    "AT61 1904 3002 3457 3201",
])
def test_iban(iban):
    assert found(f"Konto: {iban}.") == [("iban", iban)]


def test_vat_id_is_not_an_iban():
    assert found("Rechnung mit USt-IdNr. DE123456789.") == []


@pytest.mark.parametrize("text, expected", [
    ("Geb. 03.05.1987, ledig", "03.05.1987"),
    ("Sie ist am 3.5.87 geboren.", "3.5.87"),
    ("Der Kunde (geb. am 3. Mai 1987) lebt allein.", "3. Mai 1987"),
    ("geboren 1987-05-03 in Aleppo", "1987-05-03"),
    ("Geburtsdatum: 12.11.1974", "12.11.1974"),
    ("Sohn Emil, * 14.02.2009, Gesamtschule", "14.02.2009"),
    ("DOB: 12/03/1985", "12/03/1985"),
    ("Der Vater, 17.09.1959, ist pflegebedürftig.", "17.09.1959"),
])
def test_birth_date(text, expected):
    # "Sohn Emil" is a name as well; the date is what this test is about.
    assert [f for f in found(text) if f[0] != "name"] == [("birth_date", expected)]


@pytest.mark.parametrize("text", [
    "Nächste Fallkonferenz am 14.12.2026 um 10:00 Uhr.",
    "Die Maßnahme läuft bis 31.01.2027.",
    "Termin am 3. Februar 2027.",
    "Im Leistungsbezug seit 01.01.2005.",
    "Beschäftigt von 01.03.2001 bis 30.06.2009.",
    "Ausbildung abgebrochen 15.06.2003.",
    "Der Bescheid vom 15.08.2025 ist bestandskräftig.",
])
def test_appointment_and_history_dates_are_not_birth_dates(text):
    assert found(text) == []


def test_uncued_date_needs_adult_age_year():
    # A child's or recent date in apposition is not enough without a cue.
    assert found("Termin, 14.12.2026, im Stadtteilbüro.") == []
    assert found("Die Mutter, 02.02.1961, lebt mit im Haushalt.") == [("birth_date", "02.02.1961")]


@pytest.mark.parametrize("text, expected", [
    ("Wohnhaft Frankfurter Straße 12, 2. OG", "Frankfurter Straße 12"),
    ("Neue Anschrift: Berliner Str. 5a", "Berliner Str. 5a"),
    ("in der Waldstraße 43 gemeldet", "Waldstraße 43"),
    ("Adresse: Kaiserstr. 8, Hinterhaus", "Kaiserstr. 8"),
    ("im Buchrainweg 22b", "Buchrainweg 22b"),
    ("in der Karl-Marx-Straße 10-12", "Karl-Marx-Straße 10-12"),
    ("in der Mainzer Allee 14", "Mainzer Allee 14"),
    ("in der Sprendlinger Landstraße 80", "Sprendlinger Landstraße 80"),
    ("Sie wohnt Auf der Rosenhöhe 12.", "Auf der Rosenhöhe 12"),
])
def test_address(text, expected):
    assert found(text) == [("address", expected)]


@pytest.mark.parametrize("text", [
    "Die Kurse finden in der Bahnhofstraße statt.",
    "Er war 3 Wochen auf der Straße.",
    "Arbeitsweg 45 Min. je Richtung.",
    "Mentoring 2x monatlich.",
    "Der Praktikumsplatz 1 ist vergeben.",
])
def test_address_look_alikes(text):
    assert found(text) == []


@pytest.mark.parametrize("text, expected", [
    ("Umzug nach 63065 Offenbach.", "63065 Offenbach"),
    ("Umzug nach 63067 Offenbach am Main.", "63067 Offenbach am Main"),
    ("wohnt in 63263 Neu-Isenburg", "63263 Neu-Isenburg"),
    ("nach 01069 Dresden", "01069 Dresden"),
    ("nach 60311 Frankfurt a. M. gezogen", "60311 Frankfurt a. M."),
])
def test_postcode(text, expected):
    assert found(text) == [("postcode", expected)]


@pytest.mark.parametrize("text", [
    "Es stehen 25000 Euro zur Verfügung.",
    "Im Stadtteil leben rund 12000 Menschen.",
    "Die Postleitzahlbereiche 63065 bis 63075 gehören zu Offenbach.",
])
def test_postcode_look_alikes(text):
    assert found(text) == []


@pytest.mark.parametrize("text, expected", [
    ("Kundennummer 123A45678", "123A45678"),
    ("Kd-Nr. 123D456789", "123D456789"),
    ("Kundennr.: 123 D 456789", "123 D 456789"),
    ("BG-Nummer 12345BG0012345", "12345BG0012345"),
    ("BG-Nr. 12345 BG 0012345", "12345 BG 0012345"),
])
def test_customer_number(text, expected):
    assert found(text) == [("customer_number", expected)]


@pytest.mark.parametrize("text, expected", [
    ("SV-Nummer 65 170839 J 003", "65 170839 J 003"),
    ("RV-Nr.: 65170839J003", "65170839J003"),
])
def test_insurance_number(text, expected):
    assert found(text) == [("insurance_number", expected)]


def test_insurance_number_needs_plausible_birth_date():
    assert found("Code 65 173939 J 003") == []  # month 39


@pytest.mark.parametrize("text, expected", [
    ("Steuer-ID 12 345 678 901", "12 345 678 901"),
    ("IdNr 86 095 742 719 laut Lohnabrechnung", "86 095 742 719"),
    ("Die Steueridentifikationsnummer lautet 12345678901.", "12345678901"),
    ("Übermittelt wurde 47036892816.", "47036892816"),  # valid check digit, no cue
    ("Steuernummer 013/815/08153", "013/815/08153"),
])
def test_tax_id(text, expected):
    assert found(text) == [("tax_id", expected)]


def test_eleven_digit_number_without_cue_needs_checksum():
    assert found("Die Ticketnummer 20261201001 betrifft das Portal.") == []


@pytest.mark.parametrize("text, expected", [
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
])
def test_name(text, expected):
    assert found(text) == [("name", expected)]


def test_name_offsets_exclude_salutation():
    text = "Gespräch mit Frau Şahin."
    assert find_personal_data(text, today=TODAY) == [Finding("name", 18, 23, KINDS["name"])]


@pytest.mark.parametrize("text", [
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
])
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


def test_corpus_recall_and_false_alarms():
    result = evaluate(CORPUS, today=TODAY)
    missed = "\n".join(f"  {n}: {s}" for n, s in result.misses)
    alarms = "\n".join(f"  {n}: {s}" for n, s, _ in result.false_alarms)
    assert result.recall >= 0.95, f"missed:\n{missed}"
    assert result.false_alarm_rate <= 0.05, f"false alarms:\n{alarms}"


def test_cli_evaluate_exit_codes(capsys):
    assert _main(["--evaluate", str(CORPUS)]) == 0
    out = capsys.readouterr().out
    assert "recall" in out and "false-alarm rate" in out
    # An impossible threshold makes the command fail.
    assert _main(["--evaluate", str(CORPUS), "--max-false-alarms", "-1"]) == 1
