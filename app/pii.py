"""Anonymisation guard: finds what identifies a person in free text.

Every free-text field (case summary, goals, notes, agenda, measures, minutes)
passes through :func:`find_personal_data` before it is saved. The guard is a
heuristic: it errs towards asking ("is this about the person?") rather than
silently letting data through, but it must stay quiet on the everyday language
of a case conference (agencies, districts, appointments, amounts, paragraphs),
otherwise people learn to click the warning away.

Design choices worth knowing:

* A finding's span covers the personal datum itself, not its cue: for
  "Frau Yılmaz" the span is "Yılmaz", for "geb. 03.05.1987" it is the date.
  That keeps the masked excerpt in messages meaningful.
* Names are recognised after a salutation ("Herr", "Frau", "Fr.", "Hr.",
  "Familie", an academic title), after "namens"/"heißt", and without any cue
  through a gazetteer of first names and a German dictionary (see "Names
  without a cue" below): "Emine Doğan", "Kundin Nowak", "Ihr Bruder Tarek",
  "Lena und Tim". Lower-case writing ("frau yilmaz") is not recognised:
  without capitals a name cannot be told from ordinary words. A capitalised
  word after a salutation that is a role, a family relation or a time word
  ("Frau Kollegin", "Herr Bürgermeister", "Fr. Vormittag", "Frau Anfang 30")
  is not treated as a name, nor is a word with an institutional suffix ("Herr
  von der Suchtberatung"). Surnames that are also nouns ("Frau Koch", "Herr
  Richter") are still flagged: a false alarm there costs a click, a miss
  leaks a name.
* The tool's own people are no personal data of the case: the caller hands
  in what the directory knows (:class:`KnownPeople`: users' names, users' and
  agencies' addresses, names of districts, agencies and places), and their
  names are not flagged. The guard itself never reads Flask or a database.
* Dates count as birth dates when a birth cue is near (geb., geboren,
  Geburtsdatum, DOB, "*", "zur Welt gekommen"). Without a cue, a date fires
  only if its year lies at least 14 years back *and* it reads as an attribute
  of a person: in apposition or parentheses ("Der Vater, 17.09.1959, ...") or
  right after a relation noun. Appointment dates are recent or in the future,
  and old dates in a case history ("Ausbildung abgebrochen 15.06.2003",
  "seit 01.01.2005") have no such form, so both stay quiet.
* Numbers with a checksum (IBAN, tax id) are validated by python-stdnum where
  no cue says what they are, so that arbitrary long numbers (ticket numbers)
  stay quiet; phone numbers are also matched by libphonenumber (region DE).
  The social-insurance number has no validator in python-stdnum, so its
  structure (area, birth date, letter) is checked here.
* The cost grows linearly with the text (issue 12; bench/bench_pii.py).
  Python's regular expressions try a pattern at every position, so the
  number patterns only run in windows around digits, salutations and e-mail
  addresses are found from literal anchors, and each distinct capitalised
  word is looked up once per text.

No Flask: the guard can be used and tested on its own. Its dependencies are
gender-guesser (first names), german-nouns (the dictionary), phonenumbers and
python-stdnum; the README says why these.
"""

from __future__ import annotations

import argparse
import csv
import gc
import re
import sys
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date
from importlib import resources
from pathlib import Path

import phonenumbers
from stdnum import iban
from stdnum.de import idnr

KINDS: dict[str, str] = {
    "email": "eine E-Mail-Adresse",
    "phone": "eine Telefonnummer",
    "iban": "eine IBAN",
    "birth_date": "ein Geburtsdatum",
    "address": "eine Anschrift",
    "postcode": "eine Postleitzahl mit Ort",
    "name": "einen Namen",
    "customer_number": "eine Kunden- oder BG-Nummer",
    "insurance_number": "eine Sozialversicherungsnummer",
    "tax_id": "eine Steuer-Identifikationsnummer",
}

# When findings overlap, the more specific pattern wins: an IBAN contains
# digit runs that also look like a phone number, a BG number contains a
# postcode-like run, and so on.
_PRIORITY = (
    "email",
    "iban",
    "insurance_number",
    "customer_number",
    "tax_id",
    "birth_date",
    "phone",
    "address",
    "postcode",
    "name",
)

# Python's re has no \p{Lu}; letters are matched as "word char that is not a
# digit or underscore" and the capital is checked in code.
_L = r"[^\W\d_]"


@dataclass(frozen=True)
class Finding:
    kind: str
    start: int
    end: int
    label: str

    def excerpt(self, text: str) -> str:
        """A masked excerpt that does not echo the personal datum in full."""
        return _mask(text[self.start : self.end])


def _finding(kind: str, start: int, end: int) -> Finding:
    return Finding(kind, start, end, KINDS[kind])


def _mask(value: str) -> str:
    # At most four characters, and never more than half, so that a short
    # surname ("Ng", "Kaya") is not shown in full.
    shown = min(4, max(1, len(value) // 2))
    return value[:shown].rstrip() + " …"


# --------------------------------------------------------------------------
# Where numbers are
#
# Most kinds need digits: IBANs, phone numbers, dates, house numbers,
# postcodes. Python's regular expressions try a pattern at every position, so
# instead of running a dozen patterns over the whole text, each runs only in
# the windows around digit clusters (with enough context before a house
# number for its street, and after a postcode for its town). Ordinary prose
# between the numbers is scanned once, by the cluster pattern.

_NUMBER_CLUSTER = re.compile(r"[0-9][0-9 ./:,()+/–-]*")
_FIVE_DIGITS = re.compile(r"(?<![0-9])[0-9]{5}(?![0-9])")
# Before a number: its cue or prefix ("Steuernummer:", "DE" of an IBAN; "geb." is looked
# up separately); after it, the rest of a date ("3. Mai 1987"). Before a house number: its
# street, or "wohnt jetzt in der". After a postcode: its town.
_WINDOW_BEFORE = 24
_WINDOW_AFTER = 16
_HOUSE_WINDOW_BEFORE = 56
_TOWN_WINDOW_AFTER = 48


# Eight or more digits, perhaps grouped, perhaps with a letter between them: where IBANs,
# tax ids, social-insurance, customer and household numbers can be ("DE89 3704 0044 ...",
# "65 170839 J 003", "123D456789", "12345BG0012345").
_LONG_NUMBER = re.compile(r"[0-9](?:[ /.-]?(?:[0-9]|[A-Za-z](?= ?[0-9])|BG(?= ?[0-9]))){7,48}")
_LONG_WINDOW_BEFORE = 24  # "Steuernummer:", the country code of an IBAN


class _Windows(list):
    """Windows around digit clusters; ``houses`` those before one to three digits (house
    numbers), ``postcodes`` those after five, ``long`` those around long numbers."""

    houses: list[tuple[int, int]]
    postcodes: list[tuple[int, int]]
    long: list[tuple[int, int]]


def _merged(spans: Iterable[tuple[int, int]], text: str) -> list[tuple[int, int]]:
    n = len(text)
    merged: list[list[int]] = []
    for lo, hi in spans:
        if merged and lo <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], hi)
        else:
            merged.append([lo, hi])
    result = []
    for lo, hi in merged:
        # End a window after a whole word, so that a lookahead at its edge sees the truth.
        stop = min(n, hi + 40)
        while hi < stop and (text[hi].isalnum() or text[hi] in "-."):
            hi += 1
        result.append((lo, hi))
    return result


def _digit_windows(text: str) -> _Windows:
    n = len(text)
    numbers, houses, postcodes = [], [], []
    for m in _NUMBER_CLUSTER.finditer(text):
        start, end = m.span()
        numbers.append((max(0, start - _WINDOW_BEFORE), min(n, end + _WINDOW_AFTER)))
        run = 1
        while run < 6 and start + run < n and text[start + run].isdigit():
            run += 1
        # "14.12.2026", "10:00", "2.14" are dates, times and rooms, not house numbers.
        after = text[start + run : start + run + 2]
        if run <= 3 and not (after[:1] in (".", ",", ":") and after[1:2].isdigit()):
            houses.append((max(0, start - _HOUSE_WINDOW_BEFORE), min(n, start + 12)))
        if end - start >= 5:
            for five in _FIVE_DIGITS.finditer(text, start, end):
                postcodes.append((max(0, five.start() - 4), min(n, five.end() + _TOWN_WINDOW_AFTER)))
    windows = _Windows(_merged(numbers, text))
    windows.houses = _merged(houses, text)
    windows.postcodes = _merged(postcodes, text)
    windows.long = _merged(
        (
            (max(0, m.start() - _LONG_WINDOW_BEFORE), min(n, m.end() + 2))
            for lo, hi in windows
            for m in _LONG_NUMBER.finditer(text, lo, hi)
        ),
        text,
    )
    return windows


def _finditer(pattern: re.Pattern, text: str, windows: list[tuple[int, int]]) -> Iterator[re.Match]:
    for lo, hi in windows:
        yield from pattern.finditer(text, lo, hi)


# --------------------------------------------------------------------------
# E-mail addresses

# "(at)"/"[at]" is how people dodge spam filters, still an address.
_EMAIL_DOMAIN = re.compile(r"(?:@|\s?[(\[]at[)\]]\s?)[\w-]+(?:\.[\w-]+)*\.[A-Za-z]{2,}\b")
_EMAIL_LOCAL = re.compile(r"(?<![\w.+-])[\w.+-]+$")


def _emails(text: str, today: date, windows: list[tuple[int, int]]) -> Iterator[Finding]:
    # From each "@" (the forms turn a full-width "＠" into one) or "(at)"/"[at]": first the
    # domain after it, then, only for a plausible domain, the local part before it. Trying
    # the whole pattern everywhere, or in a window around every "@", costs too much on a
    # text full of them.
    anchors = []
    for marker in ("@", "(at)", "[at]"):
        pos = text.find(marker)
        while pos != -1:
            anchors.append(pos)
            pos = text.find(marker, pos + 1)
    end = -1
    for pos in sorted(anchors):
        if pos < end:
            continue
        domain = _EMAIL_DOMAIN.match(text, pos)
        if not domain:
            continue
        # "a.kaya (at) gmx.net": one space may stand before the "(at)".
        local_end = pos - 1 if text[pos] != "@" and pos and text[pos - 1].isspace() else pos
        local = _EMAIL_LOCAL.search(text, max(0, local_end - 64), local_end)
        if not local:
            continue
        end = domain.end()
        yield _finding("email", local.start(), end)


# --------------------------------------------------------------------------
# IBAN

_IBAN = re.compile(r"\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,3})?\b")


def _prefix_span(text: str, start: int, chars: int) -> int:
    """End offset after `chars` non-space characters from `start`."""
    pos = start
    while chars:
        if not text[pos].isspace():
            chars -= 1
        pos += 1
    return pos


def _ibans(text: str, today: date, windows: _Windows) -> Iterator[Finding]:
    for m in _finditer(_IBAN, text, windows.long):
        compact = re.sub(r"\s", "", m.group())
        # The regex may run on into a following word written in capitals, so
        # try the longest checksum-valid prefix.
        for length in range(len(compact), 14, -1):
            if iban.is_valid(compact[:length]):
                yield _finding("iban", m.start(), _prefix_span(text, m.start(), length))
                break
        else:
            # A mistyped German IBAN is still somebody's account number.
            if compact.startswith("DE") and compact[2:22].isdigit() and len(compact) >= 22:
                yield _finding("iban", m.start(), _prefix_span(text, m.start(), 22))


# --------------------------------------------------------------------------
# Phone numbers

_PHONE = re.compile(
    r"(?<![\w+/.,:–-])"
    r"(?:"
    r"(?:\+|00)[1-9]\d{0,2}[ -]?(?:\(0\) ?)?\d"  # +49 69 …, 0049 171 …, +49 (0)69 …
    r"|\(0\d{1,5}\) ?\d"  # (069) 1234-56
    r"|0 ?[1-9] ?\d"  # 069 …, 0170 …, 06103 …, 0 69 …
    r")"
    # Bounded: a phone number has at most 16 digits, and an unbounded repeat of an
    # alternation makes Python's engine slower than linear on a long run of digits.
    r"(?: ?[/-] ?\d| ?\d){0,24}"
)
_SLASH_DATE = re.compile(r"\d{1,2}/\d{1,2}/\d{2,4}")
# Free-phone, shared-cost and premium numbers belong to organisations, never
# to a private person.
_SERVICE_NUMBER = re.compile(r"^(?:(?:\+|00)49[ -]?(?:\(0\) ?)?|0)(?:800|180|900|137)")


# Digit clusters worth handing to libphonenumber: its matcher is thorough but slow, so it
# only sees the neighbourhood of six or more digits, which keeps the guard linear.
_PHONE_CANDIDATE = re.compile(r"(?<![\w.,/])(?:\+|\(0|0)[ \t]?\d[\d \t()/–-]{4,40}\d")
_NOT_PRIVATE = frozenset(
    {
        phonenumbers.PhoneNumberType.TOLL_FREE,
        phonenumbers.PhoneNumberType.PREMIUM_RATE,
        phonenumbers.PhoneNumberType.SHARED_COST,
        phonenumbers.PhoneNumberType.UAN,
    }
)


def _phones(text: str, today: date, windows: list[tuple[int, int]]) -> Iterator[Finding]:
    taken: set[int] = set()
    # The hand-written pattern catches the common forms cheaply; it never fired on the
    # negatives of the corpus.
    for m in _finditer(_PHONE, text, windows):
        value = m.group().rstrip(" -/")
        digits = sum(ch.isdigit() for ch in value)
        if not 7 <= digits <= 16:
            continue
        if _SLASH_DATE.fullmatch(value) or _SERVICE_NUMBER.match(value):
            continue
        # "0170 1234567,50" would be a number, not a phone; so would "0,5".
        end = m.start() + len(value)
        if re.match(r"[.,]\d", text[end : end + 2]):
            continue
        taken.add(m.start())
        yield _finding("phone", m.start(), end)
    # libphonenumber's matcher for region DE knows grouped digits ("0 61 04 / 12 34 5"),
    # "+49 (0)", "0049" and which area codes exist; "valid" leniency keeps dates, amounts
    # and IBAN fragments out. It is thorough and slow, so it only sees clusters that start
    # like a phone number and that the pattern above did not take, each distinct one once.
    matched: dict[str, list[tuple[int, int]]] = {}
    for candidate in _finditer(_PHONE_CANDIDATE, text, windows):
        start = candidate.start()
        if start in taken or sum(ch.isdigit() for ch in candidate.group()) < 6:
            continue
        if text[max(0, start - 2) : start].rstrip()[-1:].isdigit():
            continue  # a group inside a longer number (an IBAN, a tax id), not its start
        lo = max(0, candidate.start() - 1)
        window = text[lo : candidate.end() + 1]
        spans = matched.get(window)
        if spans is None:
            spans = matched[window] = _phone_spans(window)
        for a, b in spans:
            yield _finding("phone", lo + a, lo + b)


def _phone_spans(window: str) -> list[tuple[int, int]]:
    spans = []
    for match in phonenumbers.PhoneNumberMatcher(window, "DE", leniency=phonenumbers.Leniency.VALID):
        # Dots and commas make dates and amounts ("02.11.2026": 0211 is Düsseldorf).
        if "." in match.raw_string or "," in match.raw_string:
            continue
        if phonenumbers.number_type(match.number) in _NOT_PRIVATE:
            continue
        spans.append((match.start, match.end))
    return spans


# --------------------------------------------------------------------------
# Tax identification number (Steuer-ID) and tax number (Steuernummer)

_TAX_GROUPED = re.compile(r"(?<![\d/.,])[1-9]\d \d{3} \d{3} \d{3}(?![\d]|[.,]\d)")
_TAX_COMPACT = re.compile(r"(?<![\d/.,])[1-9]\d{10}(?![\d]|[.,]\d)")
_TAX_CUE = re.compile(
    r"(?:steuer[- ]?id\w*|steuer[- ]?identifikations\w*|idnr|identifikationsnummer|tin)"
    r"\.?\s*[:.]?\s*(?:lautet|ist)?\s*$",
    re.IGNORECASE,
)
_TAX_NUMBER = re.compile(r"\b(?:Steuernummer|St\.?-?Nr\.?)\s*:?\s*(\d[\d /]{8,15}\d)", re.IGNORECASE)


def _tax_ids(text: str, today: date, windows: _Windows) -> Iterator[Finding]:
    # The 2-3-3-3 grouping is how the id is printed on letters, distinctive
    # enough on its own.
    for m in _finditer(_TAX_GROUPED, text, windows.long):
        yield _finding("tax_id", m.start(), m.end())
    for m in _finditer(_TAX_COMPACT, text, windows.long):
        before = text[max(0, m.start() - 40) : m.start()]
        lower = before.lower()
        cued = any(w in lower for w in ("steuer", "idnr", "identifikation", "tin")) and _TAX_CUE.search(before)
        if cued or idnr.is_valid(m.group()):
            yield _finding("tax_id", m.start(), m.end())
    for m in _finditer(_TAX_NUMBER, text, windows.long):
        value = m.group(1).rstrip(" /")
        if 10 <= sum(ch.isdigit() for ch in value) <= 13:
            yield _finding("tax_id", m.start(1), m.start(1) + len(value))


# --------------------------------------------------------------------------
# Social insurance number (Rentenversicherungsnummer): area, ddmmyy, initial
# of the birth name, serial and check digit.

_INSURANCE = re.compile(r"(?<!\w)(\d{2}) ?(\d{2})(\d{2})\d{2} ?[A-Za-z] ?\d{3}(?!\w)")


def _insurance_numbers(text: str, today: date, windows: _Windows) -> Iterator[Finding]:
    for m in _finditer(_INSURANCE, text, windows.long):
        area, day, month = (int(g) for g in m.groups())
        if 2 <= area <= 89 and 1 <= day <= 31 and 1 <= month <= 12:
            yield _finding("insurance_number", m.start(), m.end())


# --------------------------------------------------------------------------
# Jobcenter customer numbers (123D456789) and household numbers (12345BG0012345)

_CUSTOMER = re.compile(r"(?<!\w)\d{3} ?[A-Z] ?\d{5,6}(?!\w)")
_BG_NUMBER = re.compile(r"(?<!\w)\d{5} ?BG ?\d{7}(?!\w)")


def _customer_numbers(text: str, today: date, windows: _Windows) -> Iterator[Finding]:
    for pattern in (_BG_NUMBER, _CUSTOMER) if "BG" in text else (_CUSTOMER,):
        for m in _finditer(pattern, text, windows.long):
            yield _finding("customer_number", m.start(), m.end())


# --------------------------------------------------------------------------
# Birth dates

_MONTHS = {
    "januar": 1,
    "jänner": 1,
    "jan": 1,
    "februar": 2,
    "feb": 2,
    "märz": 3,
    "mär": 3,
    "april": 4,
    "apr": 4,
    "mai": 5,
    "juni": 6,
    "jun": 6,
    "juli": 7,
    "jul": 7,
    "august": 8,
    "aug": 8,
    "september": 9,
    "sep": 9,
    "sept": 9,
    "oktober": 10,
    "okt": 10,
    "november": 11,
    "nov": 11,
    "dezember": 12,
    "dez": 12,
}
_NUMERIC_DATE = re.compile(r"(?<![\d.,/])(\d{1,2})\. ?(\d{1,2})\. ?(\d{4}|\d{2})(?!\d|[.,]\d)")
# Only with a four-digit year: "06/2026" and "12/03" are periods, not dates.
_SLASH_DATE_FULL = re.compile(r"(?<![\d/.,])(\d{1,2})/(\d{1,2})/(\d{4})(?![\d/])")
_ISO_DATE = re.compile(r"(?<![\d.,/-])(\d{4})-(\d{2})-(\d{2})(?![\d-])")
_TEXT_DATE = re.compile(
    r"(?<![\d.])(\d{1,2})\.\s*(" + "|".join(sorted(_MONTHS, key=len, reverse=True)) + r")\.?\s+(\d{4})(?!\d)",
    re.IGNORECASE,
)
_BIRTH_CUE_BEFORE = re.compile(
    r"(?:\bgeb\.|\bgeboren|\bgeburtsdatum|\bgeb\.-?dat(?:um|\.)|\bgeburtstag|\*|\bjahrgang|\bdob|\bdate of birth)"
    r"[\s:,(]*(?:am|den)?\s*$",
    re.IGNORECASE,
)
_BIRTH_CUE_AFTER = re.compile(
    r"^[\s,)]*(?:[\w-]+\s+){0,3}?(?:geboren|zur\s+welt\s+gekommen)\b",
    re.IGNORECASE,
)
# Without a cue, an old date is only a birth date when it reads as an
# attribute of a person: in apposition ("Der Vater, 17.09.1959, ...") or in
# parentheses, or right after a relation ("Sohn Emil 14.02.2009"). Old dates
# in a case history ("Ausbildung abgebrochen 15.06.2003") stay quiet.
_ATTRIBUTE_BEFORE = re.compile(
    r"(?:[,(]|\b(?:Sohn|Tochter|Kind|Bruder|Schwester|Ehemann|Ehefrau|Partnerin|Partner|"
    r"Mutter|Vater|Kundin|Kunde)(?:\s+[A-ZÄÖÜ][^\W\d_]+)?)\s*$"
)
_BIRTH_CUE_WORDS_BEFORE = ("geb", "*", "jahrgang", "dob", "date of birth")
_RANGE_AFTER = re.compile(r"^\s*(?:[–-]|bis\b)", re.IGNORECASE)
_ADULT_AGE = 14


def _full_year(year: int, today: date) -> int:
    if year >= 100:
        return year
    # "3.5.87" means 1987; "3.5.12" means 2012.
    return 2000 + year if year <= today.year % 100 else 1900 + year


def _dates(text: str, windows: list[tuple[int, int]]) -> Iterator[tuple[int, int, int, int, int]]:
    # Each form only in the windows that hold its separator.
    dotted, dashed, slashed = [], [], []
    for lo, hi in windows:
        part = text[lo:hi]
        if "." in part:
            dotted.append((lo, hi))
        if "-" in part:
            dashed.append((lo, hi))
        if "/" in part:
            slashed.append((lo, hi))
    for m in _finditer(_NUMERIC_DATE, text, dotted):
        yield m.start(), m.end(), int(m.group(1)), int(m.group(2)), int(m.group(3))
    for m in _finditer(_ISO_DATE, text, dashed):
        yield m.start(), m.end(), int(m.group(3)), int(m.group(2)), int(m.group(1))
    for m in _finditer(_SLASH_DATE_FULL, text, slashed):
        yield m.start(), m.end(), int(m.group(1)), int(m.group(2)), int(m.group(3))
    for m in _finditer(_TEXT_DATE, text, dotted):
        yield m.start(), m.end(), int(m.group(1)), _MONTHS[m.group(2).lower()], int(m.group(3))


def _birth_dates(text: str, today: date, windows: list[tuple[int, int]]) -> Iterator[Finding]:
    for start, end, day, month, year in _dates(text, windows):
        if not (1 <= day <= 31 and 1 <= month <= 12):
            continue
        year = _full_year(year, today)
        if year > today.year:
            continue
        before = text[max(0, start - 40) : start]
        after = text[end : end + 40]
        # The cue patterns are tried only where a cue word can be: most dates have none.
        lower_before, lower_after = before.lower(), after.lower()
        cue_before = any(w in lower_before for w in _BIRTH_CUE_WORDS_BEFORE) and _BIRTH_CUE_BEFORE.search(before)
        cue_after = ("gebor" in lower_after or "welt" in lower_after) and _BIRTH_CUE_AFTER.search(after)
        if cue_before or cue_after:
            yield _finding("birth_date", start, end)
            continue
        if year > today.year - _ADULT_AGE:
            continue
        if _ATTRIBUTE_BEFORE.search(before) and not _RANGE_AFTER.search(after):
            yield _finding("birth_date", start, end)


# --------------------------------------------------------------------------
# Street addresses

_STREET_SUFFIXES = (
    "straße",
    "strasse",
    "str.",
    "weg",
    "platz",
    "allee",
    "gasse",
    "ring",
    "damm",
    "ufer",
    "chaussee",
    "pfad",
    "steig",
    "stieg",
    "promenade",
)
_STREET_WORDS = (
    r"(?:Landstraße|Landstrasse|Landstr\.|Straße|Strasse|Str\.|Weg|Platz|Allee|Gasse|Ring|Damm|Ufer|Chaussee|Promenade)"
)
# Compounds that end like a street but are not one ("Praktikumsplatz 1",
# "Arbeitsweg 45 Min.", "Mentoring 2x").
_NOT_STREET_PREFIXES = frozenset(
    """arbeits ausbildungs praktikums kita krippen kindergarten hort studien
    park sitz schlaf stell wohn therapie kurs maßnahme maßnahmen förder reha
    pflege heim schul spiel sport bildungs fahr lösungs rechts lebens rück hin
    um dienst anfahrts werde verfahrens karriere berufs ausweg irr holz
    lehr unterkunfts betreuungs teilzeit vollzeit""".split()
)
_NOT_STREET_WORDS = frozenset("mentoring monitoring tutoring catering hering engineering ring weg platz".split())
_HOUSE_NUMBER = r"\d{1,3}(?: ?[a-wyzA-WYZ](?!\w))?(?: ?[-–/] ?\d{1,3}[a-z]?)?(?![\w])"
_STREET = re.compile(
    r"(?<![\w-])"
    r"(?:"
    # "Frankfurter Straße 12", "Sprendlinger Landstraße 80", "Berliner Str. 5a"
    rf"(?P<adjective>{_L}[\w-]*(?:er|sche|sches))\s+{_STREET_WORDS}"
    # "Waldstraße 43", "Kaiserstr. 8", "Karl-Marx-Straße 10-12", "Buchrainweg 22b"
    rf"|(?P<compound>{_L}[\w-]*?)(?i:{'|'.join(re.escape(s) for s in _STREET_SUFFIXES)})"
    r")"
    rf"\s*(?P<number>{_HOUSE_NUMBER})"
)
# With a clear cue, any capitalised words plus a number are taken as a street:
# "wohnt Auf der Rosenhöhe 12".
_ADDRESS_CUE = re.compile(
    r"\b(?i:wohnhaft|wohnt|wohnen|lebt|anschrift|adresse|meldeadresse|zugezogen|umgezogen)\b"
    r"\s*:?\s*(?:(?:jetzt|inzwischen|weiterhin|noch|in|im|am|an|auf|der|die|dem|den)\s+)*"
    rf"(?P<street>(?:(?:Auf|An|Am|Im|In|Zum|Zur|Unter|Hinter|Vor)\s+(?:der|den|dem|die)?\s*)?"
    rf"[A-ZÄÖÜ]{_L}+(?:[- ][A-ZÄÖÜ]{_L}+)?)"
    rf"\s+(?P<number>{_HOUSE_NUMBER})"
)
# A number followed by one of these is a quantity, not a house number.
_UNITS = frozenset(
    """min minute minuten std stunde stunden h jahr jahre jahren monat monate
    monaten woche wochen tag tage tagen km m euro eur € % prozent x mal uhr
    kinder personen plätze termine bewerbungen""".split()
)


_STREET_HINTS = (
    "str",
    "weg",
    "platz",
    "allee",
    "gasse",
    "ring",
    "damm",
    "ufer",
    "chaussee",
    "pfad",
    "steig",
    "stieg",
    "promenade",
)
_ADDRESS_CUE_HINTS = ("wohn", "lebt", "anschrift", "adresse", "zugezogen", "umgezogen")


def _is_quantity(text: str, end: int) -> bool:
    m = re.match(r"\s*([\w€%]+)", text[end : end + 20])
    return m is not None and m.group(1).lower().rstrip(".") in _UNITS


def _addresses(text: str, today: date, windows: _Windows) -> Iterator[Finding]:
    # Each pattern only where its words occur: most numbers in a note are no house numbers.
    streets, cues = [], []
    for lo, hi in windows.houses:
        lower = text[lo:hi].lower()
        if any(w in lower for w in _STREET_HINTS):
            streets.append((lo, hi))
        if any(w in lower for w in _ADDRESS_CUE_HINTS):
            cues.append((lo, hi))
    for m in _finditer(_STREET, text, streets):
        if m.group("compound") is not None:
            prefix = m.group("compound")
            if len(prefix) < 2 or not prefix[0].isupper():
                continue
            word = text[m.start() : m.start("number")].strip().lower()
            if word in _NOT_STREET_WORDS or prefix.lower().rstrip("-") in _NOT_STREET_PREFIXES:
                continue
        elif not m.group("adjective")[0].isupper():
            continue
        if _is_quantity(text, m.end()):
            continue
        yield _finding("address", m.start(), m.end())
    for m in _finditer(_ADDRESS_CUE, text, cues):
        if not _is_quantity(text, m.end()):
            yield _finding("address", m.start("street"), m.end())


# --------------------------------------------------------------------------
# Postcode with town

_POSTCODE = re.compile(
    r"(?<![\w.,€-])(?:D-)?(?P<code>\d{5})\s+"
    rf"(?P<town>{_L}[\w]*(?:-{_L}[\w]*)*)"
    rf"(?:\s+(?:am|an der|im|ob der|bei|vor der)\s+{_L}\w*|\s+a\.\s?M\.|\s*\({_L}\w*\))?"
)
_NOT_TOWNS = frozenset(
    """euro eur menschen personen einwohner einwohnerinnen haushalte
    bedarfsgemeinschaften kunden kundinnen kundinnen fälle anfragen
    teilnehmende teilnehmer stunden minuten tage jahre kilometer km
    bewerbungen leistungsberechtigte datensätze arbeitslose stellen
    beschäftigte zeichen""".split()
)


def _postcodes(text: str, today: date, windows: _Windows) -> Iterator[Finding]:
    for m in _finditer(_POSTCODE, text, windows.postcodes):
        town = m.group("town")
        if m.group("code").startswith("00") or not town[0].isupper():
            continue
        if town.lower() in _NOT_TOWNS:
            continue
        yield _finding("postcode", m.start(), m.end())


# --------------------------------------------------------------------------
# Names

# "Hr" without a dot is common shorthand; "Fr" without one is Friday.
# An academic title alone also introduces a name ("Dr. Krämer").
_SALUTATION = r"(?:Herrn?|Frau|Familie)\b|(?:Fr|Hr|Fam|Dr|Prof)\.|Hr\b"
_TITLES = r"(?:(?:Dr|Prof|Dipl|Mag|PD|med|dent|rer|nat|phil|jur|oec|pol|h\. ?c|Ing)\.(?:-\w+\.?)?\s*)*"
_NAME_TOKEN = rf"{_L}+(?:['’-]{_L}+)*"
# Name particles. Articles ("der", "den") only count after a particle, so that
# "Herr der Lage" and "die Frau vom Jobcenter" are not names.
_PARTICLES = (
    r"(?:(?:von|van|de|del|della|da|di|du|dos|le|la|al|el|bin|ibn|abu|ter|ten)\s+"
    r"(?:(?:der|den|de|la|le|und\s+zu)\s+)?)?"
)
_NAME = re.compile(
    rf"(?<![\w-])(?P<salutation>{_SALUTATION})"
    rf"(?:\s+(?:und|u\.|&)\s+(?:{_SALUTATION}))?"
    rf"\s+{_TITLES}"
    rf"(?P<name>{_PARTICLES}(?P<first>{_NAME_TOKEN}))"
    rf"(?:\s+(?P<second>{_NAME_TOKEN}))?"
)
_PERSON_NOUNS = (
    r"(?:Kundin|Kunde|Kunden|Sohn|Söhne|Tochter|Töchter|Kind|Kinder|Bruder|Schwester|"
    r"Ehemann|Ehefrau|Partner|Partnerin|Lebensgefährte|Lebensgefährtin|Mutter|Vater|"
    r"Nachbar|Nachbarin|Enkel|Enkelin|Onkel|Tante|Neffe|Nichte|Cousin|Cousine)"
)
# "namens X" always introduces a name; "heißt X" only when a person is the
# subject ("Die Kundin heißt Maria Popa", not "Die Maßnahme heißt ...").
_CALLED = re.compile(
    rf"\b(?P<cue>namens|heißt|hieß|heißen|hießen|Name:|Nachname:|Vorname:)\s+"
    rf"(?P<name>(?P<first>{_NAME_TOKEN})(?:\s+(?P<second>{_NAME_TOKEN}))?)"
)
_PERSON_SUBJECT = re.compile(rf"(?:{_PERSON_NOUNS}|\b[Ee]r|\b[Ss]ie)\s+(?:\S+\s+){{0,2}}$")
# Capitalised words that follow a salutation without being a name: roles,
# relations, time words ("Fr." is also Friday), and salutations themselves.
_NOT_NAMES = frozenset(
    """kollegin kollege kollegen doktor doktorin professor professorin
    bürgermeister bürgermeisterin oberbürgermeister oberbürgermeisterin
    minister ministerin staatssekretär staatssekretärin präsident präsidentin
    vorsitzende vorsitzender direktor direktorin rektor rektorin pfarrer
    pfarrerin pastor pastorin richterin rechtsanwalt rechtsanwältin anwalt
    anwältin abgeordnete abgeordneter dekan dekanin landrat landrätin
    stadtrat stadträtin dezernent dezernentin fallmanager fallmanagerin
    arbeitsvermittler arbeitsvermittlerin vermittler vermittlerin berater
    beraterin sozialarbeiter sozialarbeiterin sachbearbeiter
    sachbearbeiterin teamleiter teamleiterin geschäftsführer
    geschäftsführerin leiter leiterin kundin kunde nachbarin nachbar mama
    papa mutter vater tochter sohn ehemann ehefrau kinder anfang mitte ende
    vormittag nachmittag vormittags nachmittags morgen mittag abend
    betreuer betreuerin vermieter vermieterin arzt ärztin lehrer lehrerin
    dolmetscher dolmetscherin frau herr herrn familie und der die das ober
    gott hilfe bescheid zeit arbeit geld termin termine unterlagen nachricht
    post auskunft antrag unterstützung rückmeldung informationen
    info dr prof dipl mag med""".split()
)
# Endings of institutions and of the nouns that follow "der Frau" or "der
# Familie" as an object ("der Familie Hilfe gewähren", "als Frau Vollzeit
# arbeiten", "Fr. Bewerbungstraining"); none of them ends a surname.
_NOUN_SUFFIXES = (
    "beratung",
    "stelle",
    "amt",
    "zentrum",
    "büro",
    "hilfe",
    "dienst",
    "verein",
    "verband",
    "werk",
    "ation",
    "heit",
    "keit",
    "schaft",
    "ität",
    "gesellschaft",
    "behörde",
    "einrichtung",
    "ambulanz",
    "klinik",
    "zeit",
    "arbeit",
    "geld",
    "training",
    "kurs",
    "unterricht",
    "leistung",
    "leistungen",
    "antrag",
    "bescheid",
    "unterlagen",
    "maßnahme",
    "angebot",
    "gespräch",
    "kosten",
    "schulden",
    "miete",
    "wohnung",
)
_INDEFINITE_BEFORE = re.compile(
    r"\b(?:ein|eine|einer|einem|einen|kein|keine|keiner|jede|jeder|jedem|"
    r"manche|mancher|diese|dieser|welche|welcher|eine\s+\w+e)\s+$",
    re.IGNORECASE,
)
_WEEKDAY_BEFORE = re.compile(r"\b(?:Mo|Di|Mi|Do|Sa|So)\.?\s*(?:[–-]|bis|und|,)\s*$")


def _looks_like_name(token: str) -> bool:
    if len(token) < 2 or not token[0].isupper():
        return False
    lower = token.lower()
    if lower in _NOT_NAMES:
        return False
    # "-ung"/"-ungen" only for longer words: Jung, Leung and Hartung are surnames.
    if len(lower) >= 8 and lower.endswith(("ung", "ungen")):
        return False
    # A compound needs a real first part; "Samt" is not "-amt".
    return not any(lower.endswith(s) and (len(lower) == len(s) or len(lower) > len(s) + 2) for s in _NOUN_SUFFIXES)


def _anchored(pattern: re.Pattern, text: str, literals: tuple[str, ...]) -> Iterator[re.Match]:
    """Like ``pattern.finditer(text)`` for a pattern that starts with one of ``literals``:
    finding the literals is a fast string search, trying the pattern everywhere is not."""
    positions = set()
    for literal in literals:
        pos = text.find(literal)
        while pos != -1:
            positions.add(pos)
            pos = text.find(literal, pos + 1)
    end = 0
    for pos in sorted(positions):
        if pos < end:
            continue
        m = pattern.match(text, pos)
        if m:
            end = m.end()
            yield m


_SALUTATION_LITERALS = ("Herr", "Frau", "Familie", "Fr.", "Hr", "Fam.", "Dr.", "Prof.")
_CALLED_LITERALS = ("namens", "heißt", "hieß", "heißen", "hießen", "Name:", "Nachname:", "Vorname:")


def _names(text: str, today: date, windows: list[tuple[int, int]]) -> Iterator[Finding]:
    for m in _anchored(_NAME, text, _SALUTATION_LITERALS):
        before = text[max(0, m.start() - 30) : m.start()]
        if _INDEFINITE_BEFORE.search(before):
            continue  # "ein Herr von der Suchtberatung"
        if m.group("salutation") == "Fr." and _WEEKDAY_BEFORE.search(before):
            continue  # "Mo.–Fr. Nachmittag"
        if not _looks_like_name(m.group("first")):
            continue
        end = m.end("first")
        second = m.group("second")
        if second and _looks_like_name(second) and text[m.end("first") : m.start("second")].strip() == "":
            end = m.end("second")
        yield _finding("name", m.start("name"), end)
    for m in _anchored(_CALLED, text, _CALLED_LITERALS):
        if m.group("cue") in ("heißt", "hieß", "heißen", "hießen") and not _PERSON_SUBJECT.search(
            text[max(0, m.start() - 60) : m.start()]
        ):
            continue
        if not _looks_like_name(m.group("first")):
            continue
        second = m.group("second")
        end = m.end("second") if second and _looks_like_name(second) else m.end("first")
        yield _finding("name", m.start("name"), end)


# --------------------------------------------------------------------------
# Names without a cue (issue 12)
#
# A gazetteer of first names (gender-guesser's dictionary: some 60,000 names
# from Germany, Turkey, the Arab countries, Poland, Russia, Ukraine, the
# Balkans, Vietnam and more) combined with a German dictionary (german-nouns,
# some 100,000 nouns from Wiktionary with all their forms) and German
# capitalisation: in German every noun is capitalised, so a capitalised word
# that is no noun, no function word and no place is most likely a name.
#
# Which capitalised words are names:
# * a run of capitalised words that holds a first name that is no German
#   word ("Emine Doğan", "Karl Wagner", "Nguyen Thi Lan"), or a first name
#   that is also a word ("Rose", "Ernst") next to a word no dictionary knows
#   ("Rose Yıldız" is flagged, "die Rose am Fenster" is not);
# * two or more adjacent capitalised words that no dictionary knows, which
#   covers surnames and first names the gazetteer lacks ("Tesfaye
#   Ghebremedhin");
# * after a relation noun ("Kundin", "Bruder", "Lehrerin von"), a
#   capitalised word that is a first name or no dictionary word ("Kundin
#   Nowak", "Ihr Bruder Tarek"), never a noun ("der Kundin Bescheid geben");
# * first names in a list ("Lena und Tim", "Mia, Finn und Jonas");
# * a first name that is no German word standing alone inside a sentence
#   ("Laut Kita ist Leonie oft krank"), unless a noun comes right before it
#   ("Frauenberatung Lilith" names an agency); at the start of a sentence only
#   when a lower-case word follows ("Mehmet kommt morgen").
# Compounds count as words when their last part is a noun ("Kitaplatz",
# "Westend-Treff"), adjectives of places as places ("Offenbacher").


@dataclass(frozen=True)
class _Lexicon:
    first_names: frozenset[str]  # casefolded
    surnames: frozenset[str]  # casefolded; German surnames from Wiktionary
    nouns: frozenset[str]  # as written, every case form
    places: frozenset[str]  # as written


_lexicon_lock = threading.Lock()
_lexicon_cache: list[_Lexicon] = []


def _lexicon() -> _Lexicon:
    """Loaded once per process (about 1.5 s, 60 MB); the guard is useless without it."""
    if not _lexicon_cache:
        with _lexicon_lock:
            if not _lexicon_cache:
                _lexicon_cache.append(_load_lexicon())
    return _lexicon_cache[0]


def _load_lexicon() -> _Lexicon:
    import gender_guesser.detector

    first_names = {name.casefold() for name in gender_guesser.detector.Detector().names if "+" not in name}
    surnames: set[str] = set()
    nouns: set[str] = set()
    places: set[str] = set()
    with (resources.files("german_nouns") / "nouns.csv").open(encoding="utf-8") as f:
        rows = csv.reader(f)
        header = next(rows)
        forms = [i for i, h in enumerate(header) if h.startswith(("nominativ", "genitiv", "dativ", "akkusativ"))]
        for row in rows:
            lemma, pos = row[0], set(row[1].split(","))
            if "Vorname" in pos:
                first_names.add(lemma.casefold())
            if "Nachname" in pos:
                surnames.add(lemma.casefold())
            if "Toponym" in pos:
                places.add(lemma)
            # Wiktionary files names under "Substantiv" too; only plain nouns are words.
            if "Substantiv" in pos and not pos & {"Vorname", "Nachname", "Toponym", "Eigenname"}:
                nouns.add(lemma)
                nouns.update(row[i] for i in forms if row[i])
    return _Lexicon(frozenset(first_names), frozenset(surnames), frozenset(nouns), frozenset(places))


# Capitalised at the start of a sentence or as a form of address, never names.
_FUNCTION_WORDS = frozenset(
    """
    der die das des dem den ein eine einer eines einem einen kein keine keiner keinen keinem
    ich du er sie es wir ihr ihn ihm ihnen mich mir dich dir uns euch sich man
    mein meine meinen meinem meiner dein deine sein seine seinen seinem seiner ihre ihren ihrem
    ihrer unser unsere unseren euer eure dessen deren dies diese dieser dieses diesen diesem
    jede jeder jedes jeden jedem alle allen aller alles beide beiden viele wenige einige manche
    welche welcher welches was wer wie wo wann warum woher wohin womit wofür
    und oder aber sondern denn doch sowie bzw weder noch sowohl als auch nur schon noch
    wenn weil dass ob obwohl während bevor nachdem seit seitdem sobald damit falls da
    in im an am auf aus bei beim mit nach von vom vor zu zum zur über unter um durch für gegen
    ohne hinter neben zwischen laut wegen trotz statt bis ab innerhalb außerhalb bezüglich gemäß
    heute gestern morgen vorgestern übermorgen jetzt dann danach davor bisher zuletzt zuerst
    außerdem zudem leider bitte danke dank gern gerne ja nein nicht nie immer oft manchmal
    bereits erst wieder weiterhin inzwischen mittlerweile derzeit aktuell zunächst anschließend
    hier dort dorthin daher deshalb deswegen trotzdem dennoch also somit insgesamt ebenso
    sehr ganz etwa rund ca ungefähr mehr weniger viel wenig gut schlecht neu alt erste zweite
    dritte letzte nächste nächsten nächster ältere ältester älteste jüngere jüngste jüngster
    auch sogar zusätzlich sonst eventuell vielleicht wahrscheinlich sicher offenbar
    lang lange solange kurz klar gleich genau bald fast weit
    montag dienstag mittwoch donnerstag freitag samstag sonntag
    januar februar märz april mai juni juli august september oktober november dezember
    frühjahr sommer herbst winter
    liebe lieber sehr geehrte geehrter hallo guten grüße gruß
    siehe vgl inkl ggf evtl usw etc bzw zb dh
    hr fr dr prof med dipl ing herr herrn fam
    """.split()
)
_RELATION_NOUNS = frozenset(
    """
    kunde kundin kunden sohn söhne tochter töchter kind kinder bruder brüder schwester schwestern
    geschwister zwillinge ehemann ehefrau ehemanns mann frau partner partnerin lebensgefährte
    lebensgefährtin freund freundin mutter vater eltern großmutter großvater oma opa
    schwiegermutter schwiegervater schwiegersohn schwiegertochter enkel enkelin onkel tante
    neffe nichte cousin cousine nachbar nachbarin mitbewohner mitbewohnerin stiefsohn
    stieftochter stiefvater stiefmutter pflegekind pflegesohn pflegetochter säugling baby
    teilnehmer teilnehmerin bewohner bewohnerin
    """.split()
)
# Roles after which "von" introduces the person's name ("die Lehrerin von Emre").
_ROLE_OF = re.compile(
    r"\b(?:Lehrer(?:in)?|Erzieher(?:in)?|Klassenlehrer(?:in)?|Betreuer(?:in)?|Vormund|"
    r"Mutter|Vater|Eltern|Schwester|Bruder|Tochter|Sohn|Kinder|Kind|Freund(?:in)?|Ehemann|Ehefrau)"
    r"\s+(?:von|vom)\s+$"
)
# Adjectives of places ("Offenbacher Tafel", "Frankfurter Straße").
_PLACE_ADJECTIVE = re.compile(r"(?:er|sche[nmrs]?)$")
_SENTENCE_END = frozenset('.!?:;\n•–-*"„“(')


def _is_compound_noun(token: str, nouns: frozenset[str]) -> bool:
    # "Kitaplatz", "Bewerbungswerkstatt", "Staplerschein": a noun as the last part, and
    # either a long one or one after a noun (with its linking "s", "n" or "e"). Names
    # rarely end that way ("Warsame" is not "War" + "Same"), and where they do
    # ("Rosenberg") a first name beside them still marks the pair.
    for cut in range(3, len(token) - 3):
        head = token[cut].upper() + token[cut + 1 :]
        if head not in nouns:
            continue
        if len(head) >= 6 or cut >= 5:
            return True
        prefix = token[:cut]
        prefix = prefix[0].upper() + prefix[1:]
        if (
            prefix in nouns
            or (prefix[-1] in "sn" and prefix[:-1] in nouns)
            or (len(token) >= 8 and prefix + "e" in nouns)
        ):
            return True
    return False


# Adjectives and participles, capitalised at the start of a sentence or in a name of an
# institution ("Deutschen Bahn", "Ärztlichen Dienst", "Neue Wohnung"); the noun list has none.
_ADJECTIVE = re.compile(
    r"(?:lich|isch|ig|bar|sam|haft|los|al|iv|ell|ös|är|end|iert|ert|neu|alt|groß|klein|gut|"
    r"ganz|voll|frei|hoch|weit|ober|unter|inner|äußer|erst|zweit|dritt|letzt|nächst|ander)"
    r"(?:e|en|er|es|em)$"
)


# Capital letters of the Latin, Greek and Cyrillic scripts: Python's re has no \p{Lu}.
_UPPER = "".join(ch for ch in map(chr, range(0x41, 0x530)) if ch.isupper())
_CAP_TOKEN = re.compile("[" + re.escape(_UPPER) + r"][^\W\d_]*(?:['’-][^\W\d_]+)*")
_NEXT_WORD = re.compile(r"[ \t]{1,2}([^\W\d_]+)")
_MAX_NAME_LENGTH = 40  # longer "words" are no names, and compound checks on them would cost


class _Token:
    """A capitalised word that may be a name. Nouns, function words and places are dropped
    at once, lower-case words never looked at: they only separate tokens."""

    __slots__ = ("start", "end", "text", "first", "word", "surname")
    start: int
    end: int
    text: str
    first: bool
    word: bool
    surname: bool


def _previous_word(text: str, start: int) -> str:
    """The word right before ``start`` when only one or two spaces separate them."""
    segment = text[max(0, start - 32) : start]
    stripped = segment.rstrip(" \t")
    if not 1 <= len(segment) - len(stripped) <= 2 or not stripped[-1:].isalpha():
        return ""
    word = stripped.rsplit(None, 1)[-1]
    return word if word.isalpha() else ""


def _name_tokens(text: str, lex: _Lexicon, extra_terms: frozenset[str]) -> list[_Token]:
    tokens: list[_Token] = []
    # Real text repeats its words ("Die", "Kundin", "Termin"): each distinct word is
    # looked up once per call. None marks a word that can never be (part of) a name.
    seen: dict[str, tuple[bool, bool, bool] | None] = {}
    for m in _CAP_TOKEN.finditer(text):
        word = m.group()
        if word in seen:
            attributes = seen[word]
        else:
            attributes = seen[word] = _word_attributes(word, lex, extra_terms)
        if attributes is None:
            continue
        start, end = m.span()
        if start and (text[start - 1].isalnum() or text[start - 1] in "_'’-"):
            continue  # inside a word ("2026Abc")
        first, surname, is_word = attributes
        if not (first or surname or not is_word):
            continue  # a noun: never a name, and only a separator between names
        if not is_word and not first and _ADJECTIVE.search(word):
            # A capitalised adjective comes before its noun ("Ärztlicher Dienst"); elsewhere
            # a word ending like one may well be a name ("Abdirahman Warsame hat ...").
            nxt = _NEXT_WORD.match(text, end)
            if (
                nxt
                and nxt.group(1)[0].isupper()
                and seen.get(nxt.group(1)) is None
                and _word_attributes(nxt.group(1), lex, extra_terms) is None
            ):
                continue
        t = _Token()
        t.start, t.end, t.text, t.first, t.surname, t.word = start, end, word, first, surname, is_word
        tokens.append(t)
    return tokens


def _word_attributes(word: str, lex: _Lexicon, extra_terms: frozenset[str]) -> tuple[bool, bool, bool] | None:
    """(first name, surname, dictionary word), or None for a word that is never a name:
    abbreviations, function words, places, and nouns that are no name at all."""
    if word.isupper() or len(word) > _MAX_NAME_LENGTH:
        return None  # abbreviations ("AWO", "IBAN") and endless strings
    folded = word.casefold()
    if folded in _FUNCTION_WORDS or folded in extra_terms:
        return None
    first = len(word) > 2 and folded in lex.first_names
    # A place that is also a first name ("Emilia", "Wladimir") counts as a name.
    if not first and (word in lex.places or (_PLACE_ADJECTIVE.search(word) is not None and word[:-2] in lex.places)):
        return None
    surname = folded in lex.surnames
    parts = word.replace("’", "'").split("-")
    last = parts[-1]
    is_word = (
        word in lex.nouns
        or last in lex.nouns
        or (last[:1].isupper() and _is_compound_noun(last, lex.nouns))
        or (len(parts) > 1 and any(part in lex.nouns for part in parts))
    )
    # Words of case notes that the name lists also know as first names: a word first.
    is_word = is_word or folded in _CASE_WORDS
    if is_word and not first and not surname:
        return None
    return first, surname, is_word


# Drugs by their street names ("konsumiert Crystal") and illnesses ("Long Covid"): first names or
# unknown words for the name data, but in a case note nearly always the substance or the illness.
_CASE_WORDS = frozenset({"crystal", "molly", "ecstasy", "speed", "tilidin", "long", "covid", "post"})


def _adjacent(text: str, a: _Token, b: _Token) -> bool:
    gap = b.start - a.end
    return 0 < gap <= 2 and text[a.end : b.start].isspace()


def _strong_first(t: _Token) -> bool:
    """A first name that is no German word: "Lena", "Tarek", not "Rose" or "Ernst"."""
    return t.first and not t.word


def _unknown(t: _Token) -> bool:
    return not t.word and not t.first


def _sentence_initial(text: str, start: int) -> bool:
    before = text[max(0, start - 3) : start].rstrip()
    return not before or before[-1] in _SENTENCE_END


def _names_without_cue(text: str, today: date, known: KnownPeople | None = None) -> Iterator[Finding]:
    lex = _lexicon()
    tokens = _name_tokens(text, lex, known.terms if known else frozenset())
    n = len(tokens)
    in_run = bytearray(n)
    i = 0
    while i < n:
        # Runs of name-like capitalised words: "Emine Doğan", "Hoang Van Tuan".
        j = i
        while j + 1 < n and _adjacent(text, tokens[j], tokens[j + 1]):
            j += 1
        if j > i and _run_is_name(tokens[i : j + 1]):
            yield _finding("name", tokens[i].start, tokens[j].end)
            in_run[i : j + 1] = b"\x01" * (j + 1 - i)
        i = j + 1

    for k, t in enumerate(tokens):
        if in_run[k]:
            continue
        previous_word = _previous_word(text, t.start)
        # After a relation noun: "Kundin Nowak", "Ihr Bruder Tarek", "Tochter Ayaan".
        if previous_word.casefold() in _RELATION_NOUNS:
            yield _finding("name", t.start, t.end)
            continue
        # "die Lehrerin von Emre"
        if (
            (t.first or not t.word)
            and previous_word in ("von", "vom")
            and _ROLE_OF.search(text, max(0, t.start - 30), t.start)
        ):
            yield _finding("name", t.start, t.end)
            continue
        if not _strong_first(t):
            continue
        if not _sentence_initial(text, t.start):
            # A first name that is no word, inside a sentence: "Laut Kita ist Leonie oft
            # krank"; not right after a noun, where it names an institution
            # ("Frauenberatung Lilith").
            if not (previous_word[:1].isupper() and previous_word.casefold() not in _FUNCTION_WORDS):
                yield _finding("name", t.start, t.end)
            continue
        # At the start of a sentence, only with a verb-like lower-case word after it
        # ("Mehmet kommt morgen"), since a sentence may open with anything.
        nxt = _NEXT_WORD.match(text, t.end)
        if nxt and nxt.group(1)[0].islower() and nxt.group(1).casefold() not in _FUNCTION_WORDS:
            yield _finding("name", t.start, t.end)
    yield from _name_lists(text, tokens)


_LIST_JOINERS = re.compile(r"\s*(?:,|und|oder|sowie|&|u\.)\s*(?:,|und|oder|sowie|&)?\s*$")


def _run_is_name(run: list[_Token]) -> bool:
    if any(_strong_first(t) for t in run):
        return True
    if any(t.first for t in run) and any(_unknown(t) or t.surname for t in run if not t.first):
        return True
    # Two words no dictionary knows: surnames and first names the gazetteer lacks.
    return sum(1 for t in run if _unknown(t)) >= 2


def _name_lists(text: str, tokens: list[_Token]) -> Iterator[Finding]:
    # "Lena und Tim", "Mia, Finn und Jonas": first names joined by commas and "und",
    # at least one of them no ordinary word.
    i, n = 0, len(tokens)
    while i < n:
        if not tokens[i].first:
            i += 1
            continue
        j = i
        while (
            j + 1 < n
            and tokens[j + 1].first
            and tokens[j + 1].start - tokens[j].end <= 12
            and _LIST_JOINERS.match(text, tokens[j].end, tokens[j + 1].start)
        ):
            j += 1
        group = tokens[i : j + 1]
        if len(group) >= 2 and any(_strong_first(t) for t in group):
            for t in group:
                yield _finding("name", t.start, t.end)
        i = j + 1


# --------------------------------------------------------------------------

_DETECTORS = (
    _emails,
    _ibans,
    _insurance_numbers,
    _customer_numbers,
    _tax_ids,
    _birth_dates,
    _phones,
    _addresses,
    _postcodes,
    _names,
)


class KnownPeople:
    """What the directory knows: the tool's own people and its places.

    ``names`` are the names of the tool's users (staff and agency contacts), ``emails`` the
    addresses of users and agencies: they are the professionals around a case, not the
    person, so the guard does not flag them. A name finding is dropped when all its words
    belong to one known person and include that person's surname ("Frau Bildung", "Berna
    Bildung"); a first name alone is still flagged, since children and clients share first
    names with staff. ``terms`` are names of districts, agencies and places whose words are
    never taken for a person's name ("Lauterborn", "Kaiserlei").
    """

    def __init__(self, names: Iterable[str] = (), emails: Iterable[str] = (), terms: Iterable[str] = ()):
        self._people: dict[str, list[frozenset[str]]] = {}
        for name in names:
            # "(Demo)", "(Vertretung)": remarks in parentheses are not part of the name.
            tokens = [t.casefold() for t in re.findall(_NAME_TOKEN, re.sub(r"\([^)]*\)", " ", name))]
            if tokens:
                self._people.setdefault(tokens[-1], []).append(frozenset(tokens))
        self._emails = frozenset(e.strip().casefold() for e in emails if e)
        self.terms = frozenset(t.casefold() for term in terms for t in re.findall(_NAME_TOKEN, term) if t[:1].isupper())

    def __bool__(self) -> bool:
        return bool(self._people or self._emails or self.terms)

    def covers(self, finding: Finding, text: str) -> bool:
        value = text[finding.start : finding.end]
        if finding.kind == "email":
            return value.casefold() in self._emails
        if finding.kind != "name":
            return False
        tokens = {t.casefold() for t in re.findall(_NAME_TOKEN, value)}
        if any(tokens <= person for surname in tokens for person in self._people.get(surname, ())):
            return True
        # "Berna Bildung": the surname is a noun and not part of the finding, but follows it.
        following = _NEXT_WORD.match(text, finding.end)
        surname = following.group(1).casefold() if following else ""
        return any(tokens <= person for person in self._people.get(surname, ()))


@dataclass
class Usage:
    """How often the guard ran and on how much text: a cheap, real hook for tests and logs."""

    calls: int = 0
    characters: int = 0


usage = Usage()
_RANK = {kind: i for i, kind in enumerate(_PRIORITY)}


def find_personal_data(text: str, *, today: date | None = None, known: KnownPeople | None = None) -> list[Finding]:
    """Return what in `text` probably identifies a person, sorted by position.

    Overlapping candidates are resolved in favour of the more specific kind
    (see ``_PRIORITY``), then the longer span; each character belongs to at
    most one finding. ``known`` is what the directory knows (users, agencies,
    places); the caller reads it, the guard never touches Flask or a database.
    """
    usage.calls += 1
    usage.characters += len(text or "")
    if not text:
        return []
    # A long text can hold tens of thousands of candidates; the cyclic garbage collector
    # would scan all of them again and again while they pile up, which makes the cost grow
    # faster than the text. Nothing here creates reference cycles, so it pauses meanwhile.
    paused = gc.isenabled()
    if paused:
        gc.disable()
    try:
        return _find(text, today or date.today(), known)
    finally:
        if paused:
            gc.enable()


def _find(text: str, today: date, known: KnownPeople | None) -> list[Finding]:
    candidates: list[Finding] = []
    windows = _digit_windows(text)
    for detector in _DETECTORS:
        candidates.extend(detector(text, today, windows))
    candidates.extend(_names_without_cue(text, today, known))
    candidates.sort(key=lambda f: (_RANK[f.kind], -(f.end - f.start), f.start))
    # Which characters are taken: each candidate checks only its own span, so resolving
    # overlaps costs the length of the spans, not candidates × accepted (issue 10).
    taken = bytearray(len(text))
    accepted: list[Finding] = []
    for candidate in candidates:
        if taken.find(1, candidate.start, candidate.end) == -1:
            taken[candidate.start : candidate.end] = b"\x01" * (candidate.end - candidate.start)
            accepted.append(candidate)
    if known:
        accepted = [f for f in accepted if not known.covers(f, text)]
    return sorted(accepted, key=lambda f: (f.start, f.end))


def describe(findings: Iterable[Finding], text: str) -> list[str]:
    """German messages for the form, one per distinct finding."""
    messages: list[str] = []
    for finding in findings:
        message = f"Enthält vermutlich {finding.label}: „{finding.excerpt(text)}“"
        if message not in messages:
            messages.append(message)
    return messages


# --------------------------------------------------------------------------
# Corpus evaluation (python -m app.pii --evaluate tests/pii_corpus ...)
#
# A corpus folder holds positive.txt (one sentence with personal data a line,
# each starting with its kind in square brackets, "[name] ...") and
# negative.txt (sentences without). A positive sentence counts as detected
# when the guard finds anything in it: the form stops the user either way.
# Sentences pass through the forms' normalisation first, as they would in
# the application.

_TAG = re.compile(r"^\[(?P<kind>[a-z_]+)\]\s*")


@dataclass
class Evaluation:
    positives: int
    negatives: int
    misses: list[tuple[int, str]]
    false_alarms: list[tuple[int, str, list[Finding]]]
    # kind -> (sentences, detected) over the positive sentences, by their tag
    recall_by_kind: dict[str, tuple[int, int]] = field(default_factory=dict)
    # kind -> negative sentences in which the guard found that kind
    false_alarms_by_kind: dict[str, int] = field(default_factory=dict)

    @property
    def recall(self) -> float:
        return (self.positives - len(self.misses)) / self.positives if self.positives else 1.0

    @property
    def false_alarm_rate(self) -> float:
        return len(self.false_alarms) / self.negatives if self.negatives else 0.0


def _sentences(path: Path) -> Iterator[tuple[int, str]]:
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if line.strip() and not line.lstrip().startswith("#"):
            yield number, line


def _normaliser() -> Callable[[str], str]:
    # The forms normalise every free text once before the guard sees it; the
    # evaluation does the same. Imported here because app.forms imports this module.
    from app.forms import normalise_text

    return normalise_text


def evaluate(corpus: Path | str, *, today: date | None = None, known_names: Iterable[str] = ()) -> Evaluation:
    corpus = Path(corpus)
    normalise = _normaliser()
    known = KnownPeople(known_names)
    misses: list[tuple[int, str]] = []
    by_kind: dict[str, list[int]] = {}
    positives = 0
    for number, line in _sentences(corpus / "positive.txt"):
        tag = _TAG.match(line)
        kind = tag.group("kind") if tag else "untagged"
        sentence = line[tag.end() :] if tag else line
        positives += 1
        counts = by_kind.setdefault(kind, [0, 0])
        counts[0] += 1
        if find_personal_data(normalise(sentence), today=today, known=known):
            counts[1] += 1
        else:
            misses.append((number, sentence))
    negatives = 0
    false_alarms = []
    alarms_by_kind: dict[str, int] = {}
    for number, sentence in _sentences(corpus / "negative.txt"):
        negatives += 1
        text = normalise(sentence)
        findings = find_personal_data(text, today=today, known=known)
        if findings:
            false_alarms.append((number, text, findings))
            for kind in {f.kind for f in findings}:
                alarms_by_kind[kind] = alarms_by_kind.get(kind, 0) + 1
    return Evaluation(
        positives,
        negatives,
        misses,
        false_alarms,
        {k: (v[0], v[1]) for k, v in sorted(by_kind.items())},
        dict(sorted(alarms_by_kind.items())),
    )


def _report(corpus: str, result: Evaluation, verbose: bool) -> None:
    found = result.positives - len(result.misses)
    print(f"== {corpus}")
    print(f"positive sentences: {result.positives}, detected: {found}, recall: {result.recall:.1%}")
    print(
        f"negative sentences: {result.negatives}, false alarms: {len(result.false_alarms)}, "
        f"false-alarm rate: {result.false_alarm_rate:.1%}"
    )
    print(f"  {'kind':18} {'recall':>16}  {'false alarms':>12}")
    for kind in sorted(set(result.recall_by_kind) | set(result.false_alarms_by_kind)):
        total, detected = result.recall_by_kind.get(kind, (0, 0))
        recall = f"{detected}/{total} {detected / total:6.1%}" if total else "–"
        alarms = result.false_alarms_by_kind.get(kind, 0)
        print(f"  {kind:18} {recall:>16}  {alarms:>12}")
    if verbose and result.misses:
        print("missed (positive.txt):")
        for number, sentence in result.misses:
            print(f"  {number:>4}: {sentence}")
    if verbose and result.false_alarms:
        print("false alarms (negative.txt):")
        for number, sentence, findings in result.false_alarms:
            hits = ", ".join(f"{f.kind} {sentence[f.start : f.end]!r}" for f in findings)
            print(f"  {number:>4}: {sentence}\n        -> {hits}")


def _main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m app.pii", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--evaluate",
        metavar="CORPUS_DIR",
        nargs="+",
        help="folders with positive.txt and negative.txt, each reported separately",
    )
    parser.add_argument("--min-recall", type=float, default=0.95)
    parser.add_argument("--max-false-alarms", type=float, default=0.05)
    parser.add_argument("--quiet", action="store_true", help="figures only, no list of misses and false alarms")
    parser.add_argument("text", nargs="*", help="text to check (when not evaluating)")
    args = parser.parse_args(argv)

    if not args.evaluate:
        text = " ".join(args.text) if args.text else sys.stdin.read()
        findings = find_personal_data(text)
        for finding in findings:
            print(f"{finding.kind:17} {finding.start:>5}-{finding.end:<5} {text[finding.start : finding.end]}")
        return 1 if findings else 0

    ok = True
    for corpus in args.evaluate:
        result = evaluate(corpus)
        _report(corpus, result, not args.quiet)
        passed = result.recall >= args.min_recall and result.false_alarm_rate <= args.max_false_alarms
        print(
            "OK\n"
            if passed
            else f"FAILED (need recall >= {args.min_recall:.0%}, false alarms <= {args.max_false_alarms:.0%})\n"
        )
        ok = ok and passed
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(_main())
