"""The public pages of the footer: Barrierefreiheit, Datenschutz, Impressum, Leichte Sprache.

Each has a default text (a template in ``templates/public/``, German and English through the
message catalogue) that names the deployment's details from the configuration
(``ORGANISATION_*``, ``ACCESSIBILITY_*``, ``CONTACT_EMAIL``, ...). A deployment may replace a
whole text with ``PUBLIC_PAGE_TEXTS[page][language]``: plain text, never HTML, so a
configuration file cannot put markup or scripts on a page. Blank lines separate paragraphs, a
line starting with "## " is a heading, lines starting with "- " are a list.
"""

from dataclasses import dataclass, field

from flask_babel import lazy_gettext as _l

# URL slug → (template, title)
PAGES = {
    "barrierefreiheit": ("public/accessibility.html", _l("Erklärung zur Barrierefreiheit")),
    "datenschutz": ("public/privacy.html", _l("Datenschutz")),
    "impressum": ("public/imprint.html", _l("Impressum")),
    "leichte-sprache": ("public/easy_read.html", _l("Leichte Sprache")),
}
# The footer's links: (endpoint, label).
FOOTER = (
    ("main.accessibility", _l("Barrierefreiheit")),
    ("main.privacy", _l("Datenschutz")),
    ("main.imprint", _l("Impressum")),
    ("main.easy_read", _l("Leichte Sprache")),
)


@dataclass
class Block:
    kind: str  # "heading", "paragraph", "list"
    text: str = ""
    items: list = field(default_factory=list)


def blocks(text: str) -> list[Block]:
    """Plain text as headings, paragraphs and lists (see the module's docstring)."""
    result: list[Block] = []
    for chunk in text.replace("\r\n", "\n").split("\n\n"):
        lines = [line.strip() for line in chunk.strip().split("\n") if line.strip()]
        if not lines:
            continue
        paragraph: list[str] = []
        for line in lines:
            if line.startswith("## "):
                _flush(result, paragraph)
                result.append(Block("heading", line[3:].strip()))
            elif line.startswith("- "):
                _flush(result, paragraph)
                if not result or result[-1].kind != "list":
                    result.append(Block("list"))
                result[-1].items.append(line[2:].strip())
            else:
                paragraph.append(line)
        _flush(result, paragraph)
    return result


def _flush(result: list[Block], paragraph: list[str]) -> None:
    if paragraph:
        result.append(Block("paragraph", " ".join(paragraph)))
        paragraph.clear()


def replacement(config, page: str, language: str) -> list[Block] | None:
    """The deployment's own text of ``page`` in ``language`` (else in German), or None."""
    texts = (config.get("PUBLIC_PAGE_TEXTS") or {}).get(page) or {}
    text = texts.get(language) or texts.get("de")
    return blocks(text) if text else None
