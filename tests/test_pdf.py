"""app/pdf.py on its own: PDF/A-2a with tags and metadata; nothing but our static files is
ever loaded; time, page and size limits hold."""

import io
import logging
import re
import threading
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from pypdf import PdfReader
from weasyprint import HTML
from weasyprint.logger import PROGRESS_LOGGER

from app import pdf

STATIC = Path(__file__).resolve().parents[1] / "app" / "static"


def page(body: str, head: str = "") -> str:
    return (
        f'<!doctype html><html lang="de"><head><meta charset="utf-8"><title>Prüfdokument Größe</title>'
        f'<meta name="author" content="Jobcenter Offenbach">'
        f'<link rel="stylesheet" href="pdf/minutes.css">{head}</head><body>{body}</body></html>'
    )


def render(html, **kw):
    return pdf.render(html, static_folder=STATIC, **kw)


@pytest.fixture
def local_server():
    """A web server on loopback that counts every request it gets, whatever the path."""
    hits = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            hits.append(self.path)
            body = b"p { color: red }" if self.path.endswith(".css") else b"secret"
            self.send_response(200)
            self.send_header("Content-Type", "text/css" if self.path.endswith(".css") else "text/plain")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", hits
    server.shutdown()
    server.server_close()


def embedded_files(content: bytes) -> list:
    reader = PdfReader(io.BytesIO(content))
    root = reader.trailer["/Root"]
    names = root.get("/Names")
    found = list(names.get_object().get("/EmbeddedFiles", {}).get("/Names", [])) if names else []
    return found + list(re.findall(rb"/EmbeddedFile\b", content)) + list(root.get("/AF", []))


def test_the_server_answers_and_weasyprint_alone_would_fetch_from_it(local_server):
    """The control: without our fetcher these URLs are loaded, so "no hits" below means something."""
    url, hits = local_server
    assert urllib.request.urlopen(f"{url}/probe").read() == b"secret"
    HTML(string=f'<style>@import url("{url}/import.css");</style><img src="{url}/bild.png">').write_pdf()
    assert "/import.css" in hits and "/bild.png" in hits


def test_archival_tagged_pdf_with_language_title_and_metadata():
    content = render(page("<h1>Protokoll der Fallkonferenz</h1><p>Übersicht: äöü ÄÖÜ ß – „Zitat“ € §</p>")).content
    reader = PdfReader(io.BytesIO(content))
    xmp = reader.trailer["/Root"]["/Metadata"].get_object().get_data().decode()
    assert 'pdfaid:part="2"' in xmp and 'pdfaid:conformance="A"' in xmp
    assert "Prüfdokument Größe" in xmp
    root = reader.trailer["/Root"]
    assert root["/Lang"] == "de"
    assert bool(root["/MarkInfo"]["/Marked"])
    assert "/StructTreeRoot" in root
    assert "/OutputIntents" in root
    assert reader.metadata.title == "Prüfdokument Größe"
    assert reader.metadata.author == "Jobcenter Offenbach"
    assert "Übersicht: äöü ÄÖÜ ß – „Zitat“ € §" in reader.pages[0].extract_text()
    # PDF/A: every font is embedded.
    for font in reader.pages[0]["/Resources"]["/Font"].values():
        descendant = font.get_object()["/DescendantFonts"][0].get_object()
        assert "/FontFile2" in descendant["/FontDescriptor"] or "/FontFile3" in descendant["/FontDescriptor"]


def test_our_stylesheet_and_fonts_come_from_the_static_folder():
    result = render(page("<p>Text</p>"))
    assert f"{pdf.STATIC_BASE}pdf/minutes.css" in result.served
    assert result.refused == []
    assert all(url.startswith(pdf.STATIC_BASE) for url in result.served)


REFUSED = [
    ("file image", '<img src="file:///etc/hostname" alt="x">', "file:///etc/hostname"),
    ("file stylesheet", '<link rel="stylesheet" href="file:///etc/passwd">', "file:///etc/passwd"),
    ("loopback image", '<img src="{url}/bild.png" alt="x">', "{url}/bild.png"),
    ("loopback stylesheet", '<link rel="stylesheet" href="{url}/style.css">', "{url}/style.css"),
    ("@import", '<style>@import url("{url}/import.css");</style>', "{url}/import.css"),
    ("@import of a file", '<style>@import "file:///etc/passwd";</style>', "file:///etc/passwd"),
    ("css url()", "<p style=\"background: url('{url}/hintergrund.png')\">x</p>", "{url}/hintergrund.png"),
    (
        "@font-face",
        '<style>@font-face {{ font-family: X; src: url("{url}/font.woff2"); }} p {{ font-family: X }}</style><p>x</p>',
        "{url}/font.woff2",
    ),
    (
        "svg image",
        '<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10">'
        '<image href="{url}/svg.png" width="10" height="10"/></svg>',
        "{url}/svg.png",
    ),
    ("object", '<object data="{url}/objekt.svg" type="image/svg+xml"></object>', "{url}/objekt.svg"),
    ("data url", '<img src="data:text/plain;base64,Z2VoZWlt" alt="x">', "data:text/plain;base64,Z2VoZWlt"),
    ("https elsewhere", '<img src="https://example.org/logo.png" alt="x">', "https://example.org/logo.png"),
    ("ftp", '<img src="ftp://127.0.0.1/x.png" alt="x">', "ftp://127.0.0.1/x.png"),
    (
        "look-alike host",
        '<img src="https://static.fallkonferenz.invalid.example.org/pdf/logo.svg" alt="x">',
        "https://static.fallkonferenz.invalid.example.org/pdf/logo.svg",
    ),
    (
        "userinfo trick",
        '<img src="https://static.fallkonferenz.invalid@127.0.0.1/pdf/logo.svg" alt="x">',
        "https://static.fallkonferenz.invalid@127.0.0.1/pdf/logo.svg",
    ),
    (
        "encoded traversal",
        '<img src="pdf/%2e%2e/%2e%2e/%2e%2e/pyproject.toml" alt="x">',
        f"{pdf.STATIC_BASE}pdf/%2e%2e/%2e%2e/%2e%2e/pyproject.toml",
    ),
    ("not a static type", '<link rel="stylesheet" href="../minutes/services.py">', None),
]


@pytest.mark.parametrize("name,snippet,refused", REFUSED, ids=[r[0] for r in REFUSED])
def test_the_fetcher_refuses_everything_but_static_files(local_server, name, snippet, refused):
    url, hits = local_server
    result = render(page(f"<p>Vorher</p>{snippet.format(url=url)}<p>Nachher</p>"))
    assert hits == []
    if refused is not None:
        assert refused.format(url=url) in result.refused
    assert all(u.startswith(pdf.STATIC_BASE) for u in result.served)
    text = PdfReader(io.BytesIO(result.content)).pages[0].extract_text()
    assert "Vorher" in text and "Nachher" in text and "secret" not in text


@pytest.mark.parametrize("href", ["{url}/anhang.txt", "file:///etc/passwd", "pdf/minutes.css", "pdf/logo.svg"])
def test_attachments_are_never_fetched_nor_embedded(local_server, href):
    url, hits = local_server
    result = render(page("<p>Text</p>", head=f'<link rel="attachment" href="{href.format(url=url)}" title="Anhang">'))
    assert hits == []
    assert embedded_files(result.content) == []
    assert not any("anhang" in u or "passwd" in u for u in result.served)


def test_a_symlink_out_of_the_static_folder_is_refused(tmp_path):
    (tmp_path / "static").mkdir()
    (tmp_path / "geheim.css").write_text("p { color: red }")
    (tmp_path / "static" / "link.css").symlink_to(tmp_path / "geheim.css")
    (tmp_path / "static" / "echt.css").write_text("p { color: blue }")
    fetcher = pdf.StaticOnlyFetcher(tmp_path / "static")
    assert fetcher.resolve(f"{pdf.STATIC_BASE}link.css") is None
    assert fetcher.resolve(f"{pdf.STATIC_BASE}echt.css") == (tmp_path / "static" / "echt.css").resolve()
    assert fetcher.resolve(f"{pdf.STATIC_BASE}echt.css?x=1") is None
    assert fetcher.resolve(f"{pdf.STATIC_BASE}") is None
    with pytest.raises(pdf.FetchRefused):
        fetcher.fetch(f"{pdf.STATIC_BASE}link.css")


def _long_document(paragraphs):
    return page(
        "".join(
            f"<h2>Abschnitt {i}</h2><p>{'Maßnahme besprochen und vereinbart. ' * 40}</p>" for i in range(paragraphs)
        )
    )


class _Progress(logging.Handler):
    """The pages WeasyPrint lays out, from its progress log (the log app/pdf.py watches)."""

    def __init__(self):
        super().__init__()
        self.records = []

    def emit(self, record):
        self.records.append(record.getMessage())

    @property
    def pages(self) -> int:
        laid_out = [int(m.rsplit(" ", 1)[1]) for m in self.records if m.startswith(LAYOUT_PAGE)]
        return max(laid_out, default=0)


LAYOUT_PAGE = "Step 5 - Creating layout - Page"


@pytest.fixture
def progress():
    handler = _Progress()
    PROGRESS_LOGGER.addHandler(handler)
    yield handler
    PROGRESS_LOGGER.removeHandler(handler)


# The limits are checked by what the renderer did, never by a clock: a test that times
# itself fails on a busy machine. How fast rendering is belongs in bench/bench_pdf.py.


def test_rendering_stops_at_the_time_limit(progress):
    document = _long_document(300)  # some 130 pages
    with pytest.raises(pdf.PdfTimeout):
        render(document, time_limit=0.01, max_pages=100000, max_html_bytes=10 * 2**20)
    assert progress.pages < 10, "it stopped long before the end of the document"


def test_rendering_stops_at_the_page_limit(progress):
    with pytest.raises(pdf.PdfTooLarge):
        render(_long_document(300), max_pages=5, max_html_bytes=10 * 2**20)
    # Page 6 is where the watchdog stops it (this handler may not hear of it).
    assert progress.pages in (5, 6), "it stopped at the first page past the limit"


def test_oversized_input_is_refused_before_rendering(progress):
    # With no time at all, a render that began would end in PdfTimeout.
    with pytest.raises(pdf.PdfTooLarge):
        render(page("x" * 5000), max_html_bytes=4000, time_limit=0)
    assert progress.records == []


def test_a_single_giant_word_is_broken_across_lines_not_a_runaway():
    # The form's longest word (20,000 letters) through the application is rendered in
    # tests/minutes/test_minutes_pdf.py; here a word of some 40 lines is enough.
    content = render(page(f'<p class="text">{"Ä" * 3000}</p>')).content
    lines = PdfReader(io.BytesIO(content)).pages[0].extract_text().split("\n")
    broken = [line for line in lines if set(line) == {"Ä"}]
    assert len(broken) > 30 and sum(map(len, broken)) <= 3000


def test_limits_belong_to_one_render_only():
    """A render that hits its limit leaves none behind, and threads keep their own limits."""
    with pytest.raises(pdf.PdfTimeout):
        render(_long_document(400), time_limit=0.01)
    assert render(page("<p>danach</p>")).content.startswith(b"%PDF")

    results = {}

    def slow():
        try:
            render(_long_document(600), time_limit=0.2)
        except pdf.PdfTimeout:
            results["slow"] = "timeout"

    def normal():
        results["normal"] = render(page("<p>parallel</p>")).content[:4]

    threads = [threading.Thread(target=slow), threading.Thread(target=normal)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert results == {"slow": "timeout", "normal": b"%PDF"}
