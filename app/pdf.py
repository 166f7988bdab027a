"""Safe WeasyPrint rendering: archival, tagged PDF/A with no file or network access.

The HTML comes from our own templates (Jinja autoescape keeps user text as text). What
it may load is decided here: ``StaticOnlyFetcher`` serves fonts, CSS and images from the
application's static folder and refuses every other URL (``file:``, ``http(s):`` to any
other host, ``data:``, FTP...). It never opens a socket, so redirects cannot happen, and
attachments (``<link rel=attachment>``) are dropped before the PDF is written.

Rendering is bounded: the HTML may not exceed ``PDF_MAX_HTML_BYTES``, the layout may not
exceed ``PDF_MAX_PAGES`` pages, and rendering stops after ``PDF_TIME_LIMIT`` seconds
(checked at every step and page WeasyPrint reports).

PDF variant: PDF/A-2a (see README): level A (tagged structure, Unicode text) so screen
readers can read it; part 2 rather than 3 because part 3 only adds arbitrary embedded
files, which we never want in an archived Protokoll (WeasyPrint strips non-PDF
attachments from part-2 files as a second line of defence).
"""

import functools
import io
import logging
import mimetypes
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlsplit

from flask import current_app
from fontTools.ttLib import woff2

# WeasyPrint reports progress at INFO from import on; the watchdog below listens to it, the
# application log does not need it.
logging.getLogger("weasyprint.progress").propagate = False
logging.getLogger("fontTools").setLevel(logging.WARNING)  # one INFO line per decompressed font

from weasyprint import HTML  # noqa: E402
from weasyprint.logger import PROGRESS_LOGGER  # noqa: E402
from weasyprint.urls import URLFetcher, URLFetcherResponse  # noqa: E402

PDF_VARIANT = "pdf/a-2a"
PDF_PART = "2"  # the part and conformance WeasyPrint writes into the XMP metadata
PDF_CONFORMANCE = "A"

# A base URL no resolver will ever answer (.invalid is reserved, RFC 2606). Templates
# refer to static files relative to it; the fetcher maps it onto the static folder.
STATIC_BASE = "https://static.fallkonferenz.invalid/"

ALLOWED_SUFFIXES = {".css", ".woff2", ".woff", ".ttf", ".otf", ".svg", ".png", ".jpg", ".jpeg"}
MAX_RESOURCE_BYTES = 2 * 1024 * 1024

DEFAULT_TIME_LIMIT = 30.0  # seconds
DEFAULT_MAX_HTML_BYTES = 2 * 1024 * 1024
DEFAULT_MAX_PAGES = 150

log = logging.getLogger(__name__)


class PdfError(Exception):
    """The document could not be rendered within the limits."""


class PdfTooLarge(PdfError):
    pass


class PdfTimeout(PdfError):
    pass


class FetchRefused(ValueError):
    """A URL outside the static folder (WeasyPrint logs it and renders without it)."""


class StaticOnlyFetcher(URLFetcher):
    """Serves files under ``static_folder`` for URLs below ``STATIC_BASE``; refuses the rest."""

    def __init__(self, static_folder) -> None:
        # No handlers are ever used: ``fetch`` below never calls the network code.
        super().__init__(allowed_protocols=(), allow_redirects=False)
        self.root = Path(static_folder).resolve()
        self.served: list[str] = []
        self.refused: list[str] = []

    def resolve(self, url: str) -> Path | None:
        """The file a URL names, or None if it is not a static file we serve."""
        if not url.startswith(STATIC_BASE):
            return None
        parts = urlsplit(url)
        if parts.query or parts.fragment:
            return None
        relative = unquote(parts.path).lstrip("/")
        if not relative or "\\" in relative or "\x00" in relative:
            return None
        if any(part in ("", ".", "..") for part in relative.split("/")):
            return None
        path = (self.root / relative).resolve()
        # resolve() follows symlinks: the target itself must lie inside the static folder.
        if not path.is_relative_to(self.root) or not path.is_file():
            return None
        if path.suffix.lower() not in ALLOWED_SUFFIXES or path.stat().st_size > MAX_RESOURCE_BYTES:
            return None
        return path

    def fetch(self, url, headers=None):
        path = self.resolve(url)
        if path is None:
            self.refused.append(url)
            raise FetchRefused("Nur statische Dateien der Anwendung dürfen geladen werden.")
        self.served.append(url)
        if path.suffix.lower() == ".woff2":
            stat = path.stat()
            return URLFetcherResponse(
                url, _woff2_as_sfnt(str(path), stat.st_mtime_ns, stat.st_size), {"Content-Type": "font/ttf"}
            )
        content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        return URLFetcherResponse(url, path.read_bytes(), {"Content-Type": content_type})


@functools.lru_cache(maxsize=16)
def _woff2_as_sfnt(path: str, _mtime_ns: int, _size: int) -> bytes:
    """A WOFF2 font decompressed once per process (fontTools does it in pure Python, about
    0.3 s per face: every render would pay it). Keyed on mtime and size, so a replaced
    font file is read again."""
    out = io.BytesIO()
    woff2.decompress(io.BytesIO(Path(path).read_bytes()), out)
    return out.getvalue()


# --- limits ------------------------------------------------------------------------------

_local = threading.local()


class _Abort(BaseException):
    """Raised inside WeasyPrint; a BaseException so no ``except Exception`` there swallows it."""

    def __init__(self, error: PdfError):
        super().__init__(str(error))
        self.error = error


@dataclass
class _Limits:
    deadline: float
    max_pages: int
    pages: int = 0


class _Watchdog(logging.Handler):
    """Checks the render's limits each time WeasyPrint reports progress (every step and page)."""

    def emit(self, record):
        limits = getattr(_local, "limits", None)
        if limits is None:
            return
        if record.msg.startswith("Step 5 - Creating layout - Page") and record.args:
            # Repagination lays pages out again: count the highest page number, not calls.
            limits.pages = max(limits.pages, int(record.args[0]))
            if limits.pages > limits.max_pages:
                raise _Abort(PdfTooLarge(f"Das Dokument hätte mehr als {limits.max_pages} Seiten."))
        if time.monotonic() > limits.deadline:
            raise _Abort(PdfTimeout("Das Dokument konnte nicht in der vorgesehenen Zeit erstellt werden."))


PROGRESS_LOGGER.setLevel(logging.INFO)
PROGRESS_LOGGER.addHandler(_Watchdog())


@dataclass
class Rendered:
    content: bytes
    served: list = field(default_factory=list)
    refused: list = field(default_factory=list)


def render_configured(html: str, **limits) -> bytes:
    """Render with the application's static files and its configured limits (``PDF_TIME_LIMIT``,
    ``PDF_MAX_HTML_BYTES``, ``PDF_MAX_PAGES``); ``limits`` narrows them for one kind of document.
    Raises ``PdfError`` as ``render`` does: each caller says in its own words what went wrong."""
    config = current_app.config
    settings = {
        "time_limit": config.get("PDF_TIME_LIMIT", DEFAULT_TIME_LIMIT),
        "max_html_bytes": config.get("PDF_MAX_HTML_BYTES", DEFAULT_MAX_HTML_BYTES),
        "max_pages": config.get("PDF_MAX_PAGES", DEFAULT_MAX_PAGES),
    } | limits
    return render(html, static_folder=current_app.static_folder, **settings).content


def render(
    html: str,
    *,
    static_folder,
    time_limit: float = DEFAULT_TIME_LIMIT,
    max_html_bytes: int = DEFAULT_MAX_HTML_BYTES,
    max_pages: int = DEFAULT_MAX_PAGES,
) -> Rendered:
    """Render our own HTML to PDF/A-2a. Raises ``PdfError`` when a limit is hit.

    Title, language, author and dates come from the HTML's ``<title>``, ``lang`` and
    ``<meta>`` elements.
    """
    if len(html.encode("utf-8")) > max_html_bytes:
        raise PdfTooLarge("Der Inhalt ist zu umfangreich für ein PDF.")
    fetcher = StaticOnlyFetcher(static_folder)
    _local.limits = _Limits(deadline=time.monotonic() + time_limit, max_pages=max_pages)
    try:
        document = HTML(string=html, base_url=STATIC_BASE, url_fetcher=fetcher).render(
            pdf_variant=PDF_VARIANT, pdf_tags=True
        )
        # Nothing is ever attached to a Protokoll, whatever the HTML says.
        document.metadata.attachments = []
        content = document.write_pdf(pdf_variant=PDF_VARIANT, pdf_tags=True, attachments=None)
    except _Abort as abort:
        raise abort.error from None
    finally:
        _local.limits = None
    return Rendered(content, fetcher.served, fetcher.refused)
