"""The English catalogue covers every German UI string of the current source.

The messages are extracted from the source in-process (the method map of babel.cfg, the
keywords of `make extract-messages`), not read from messages.pot: a string added without
running the extraction must fail here too.
"""

import re
from pathlib import Path

import pytest
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

from tests.conftest import post

ROOT = Path(__file__).resolve().parent.parent
EN_PO = ROOT / "app" / "translations" / "en" / "LC_MESSAGES" / "messages.po"
PLACEHOLDER = re.compile(r"%\((\w+)\)[-#0 +]*\d*(?:\.\d+)?[sdifr]")


def _key(msgid, context=None):
    # Singular msgid identifies a catalogue entry (plural forms share it), with its context.
    singular = msgid[0] if isinstance(msgid, (tuple, list)) else msgid
    return (singular, context)


@pytest.fixture(scope="module")
def source_messages():
    with open(ROOT / "babel.cfg", encoding="utf-8") as f:
        method_map, options_map = parse_mapping_cfg(f, str(ROOT / "babel.cfg"))
    keywords = dict(DEFAULT_KEYWORDS, _l=None)
    found = {}
    for filename, lineno, msgid, _comments, context in extract_from_dir(
        str(ROOT), method_map, options_map, keywords=keywords
    ):
        found.setdefault(_key(msgid, context), (filename, lineno))
    return found


@pytest.fixture(scope="module")
def english():
    with open(EN_PO, "rb") as f:
        catalogue = read_po(f, locale="en")
    return {_key(m.id, m.context): m for m in catalogue if m.id}


def test_extraction_finds_the_ui_strings(source_messages):
    # Guards the test below against a method map that silently extracts nothing.
    ids = {key[0] for key in source_messages}
    assert {"Anmelden", "Passwort vergessen?"} <= ids
    assert len(ids) > 100


def _untranslated(message) -> bool:
    if message is None or message.fuzzy:
        return True
    strings = message.string if isinstance(message.string, (tuple, list)) else (message.string,)
    return not all(s and s.strip() for s in strings)


def test_every_source_string_has_an_english_translation(source_messages, english):
    missing = [
        f"{filename}:{lineno}: {key[0]!r}"
        for key, (filename, lineno) in sorted(source_messages.items(), key=lambda kv: kv[1])
        if _untranslated(english.get(key))
    ]
    assert not missing, (
        f"{len(missing)} strings without an English translation in {EN_PO.relative_to(ROOT)} "
        "(run `make extract-messages`, translate, `make translations`):\n" + "\n".join(missing)
    )


def test_translations_keep_the_placeholders_of_the_german_text(english):
    wrong = []
    for message in english.values():
        if _untranslated(message):
            continue  # reported by the completeness test
        ids = message.id if isinstance(message.id, (tuple, list)) else (message.id,)
        strings = message.string if isinstance(message.string, (tuple, list)) else (message.string,)
        expected = {name for msgid in ids for name in PLACEHOLDER.findall(msgid)}
        for string in strings:
            if set(PLACEHOLDER.findall(string)) != expected:
                wrong.append(f"{message.id!r} -> {string!r}")
    assert not wrong, "placeholders differ from the German text:\n" + "\n".join(wrong)


def test_placeholder_pattern_sees_named_placeholders():
    assert PLACEHOLDER.findall("Seite %(page)d von %(pages)d, %(name)s") == ["page", "pages", "name"]
    assert PLACEHOLDER.findall("100 % sicher") == []


def test_log_in_page_in_english_after_switching(app, client):
    r = post(client, app, "/sprache", {"lang": "en", "next": "/anmelden"})
    assert r.status_code == 302
    page = client.get("/anmelden")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert '<html lang="en">' in html
    for english_text in ("Log in", "Password", "Forgot your password?", "Email address"):
        assert english_text in html
    for german_text in ("Anmelden", "Passwort vergessen?", "Zum Inhalt springen"):
        assert german_text not in html
