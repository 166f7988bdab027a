"""The public consultation-hour pages (``/sprechstunden``): no log-in, no cookie, cacheable.

German, Leichte Sprache (``/sprechstunden/einfach``) and English (``/sprechstunden/en``); the
language is in the address, never in a cookie. Filters are GET parameters of a form without a
CSRF token. Every answer carries an ETag (a hash of what it is made from) and Last-Modified
(the newest change of anything shown, at least today's midnight: the lists start today), is
``Cache-Control: public`` and answers a matching If-None-Match or If-Modified-Since with 304
before anything is rendered. Only published hours at active neighbourhood offices and partners'
premises appear; nothing about cases, pseudonyms or staff accounts is read here.
"""

from collections import OrderedDict
from datetime import timedelta
from threading import Lock

from flask import Blueprint, Response, current_app, g, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import refresh
from markupsafe import Markup
from werkzeug.http import is_resource_modified

from app import db, pdf
from app.agencies.models import District
from app.clock import berlin_today, de_date, de_long_date
from app.consultations import calendar
from app.consultations.models import LANGUAGES
from app.consultations.services import (
    PUBLIC_WEEKS,
    PublicFilter,
    describe,
    fingerprint,
    map_link,
    poster_month,
    public_data,
)
from app.security import cookieless

bp = Blueprint("public_hours", __name__, url_prefix="/sprechstunden")

VARIANTS = {"de": "de", "einfach": "de", "en": "en"}  # the page's variant -> its locale
VARIANT = "<any(einfach, en):fassung>"
PAGE_MAX_AGE = 300  # seconds a cache may keep a page without asking again
FEED_MAX_AGE = 3600


def _variant(fassung: str) -> str:
    g.page_locale = VARIANTS[fassung]
    refresh()  # the language comes from the address: never from the (ignored) cookie
    return fassung


def _cacheable(response: Response, etag: str, data, max_age: int) -> Response:
    response.set_etag(etag)
    response.last_modified = data.changed_at
    response.cache_control.public = True
    response.cache_control.max_age = max_age
    return response


def _not_modified(etag: str, data, max_age: int) -> Response | None:
    """304 when the client's copy is current (If-None-Match first, else If-Modified-Since)."""
    if is_resource_modified(request.environ, etag=etag, last_modified=data.changed_at):
        return None
    return _cacheable(Response(status=304), etag, data, max_age)


def _not_found(fassung="de"):
    _variant(fassung)
    return render_template("consultations/public/not_found.html", fassung=fassung), 404


def _id_arg(name: str, valid) -> tuple[int | None, bool]:
    """A filter's id from the query string: (id or None, whether the value was acceptable)."""
    raw = request.args.get(name, "")
    if raw == "":
        return None, True
    if not raw.isdigit() or len(raw) > 9 or int(raw) not in valid:
        return None, False
    return int(raw), True


def _names(data) -> dict:
    """Topic and language names in the page's language."""
    locale = g.get("page_locale", "de")
    easy = g.get("easy", False)

    def topic(topic_id):
        t = data.topics.get(topic_id)
        if t is None:
            return ""
        if easy and t.name_easy:
            return t.name_easy
        return t.name_en if locale == "en" and t.name_en else t.name

    return {"topic_name": topic, "language_name": lambda code: str(LANGUAGES.get(code, code))}


def _links(endpoint: str, **values) -> dict:
    links = {}
    for variant in VARIANTS:
        args = dict(values)
        if variant != "de":
            args["fassung"] = variant
        links[variant] = url_for(endpoint, **args)
    return links


@bp.route("", defaults={"fassung": "de"})
@bp.route(f"/{VARIANT}")
@cookieless
def index(fassung):
    fassung = _variant(fassung)
    g.easy = fassung == "einfach"
    today = berlin_today()
    all_data = public_data(db.session, today=today)
    district_ids = {loc.district_id for loc in all_data.locations.values() if loc.district_id in all_data.districts}
    topic_ids = {t for h in all_data.hours for t in h.topic_ids if t in all_data.topics}
    district_id, ok_district = _id_arg("stadtteil", district_ids)
    topic_id, ok_topic = _id_arg("thema", topic_ids)
    status = 200 if ok_district and ok_topic else 400
    data = public_data(db.session, PublicFilter(district_id=district_id, topic_id=topic_id), today=today)
    etag = fingerprint(data, fassung, district_id, topic_id, status)
    if status == 200 and (answer := _not_modified(etag, data, PAGE_MAX_AGE)) is not None:
        return answer
    dates = data.occurrences(today, today + timedelta(weeks=PUBLIC_WEEKS))
    hour_locations = {h.location_id for h in data.hours}
    places = sorted(
        (loc for loc in all_data.locations.values() if loc.id in hour_locations),
        key=lambda loc: (
            all_data.districts[loc.district_id].name if loc.district_id in all_data.districts else "",
            loc.name,
        ),
    )
    template = "consultations/public/easy_index.html" if g.easy else "consultations/public/index.html"
    html = render_template(
        template,
        fassung=fassung,
        data=data,
        dates=dates,
        places=places,
        districts=sorted((all_data.districts[d] for d in district_ids), key=lambda d: d.name),
        topics=sorted((all_data.topics[t] for t in topic_ids), key=lambda t: t.name),
        district_id=district_id,
        topic_id=topic_id,
        invalid=status == 400,
        variants=_links("public_hours.index"),
        weeks=PUBLIC_WEEKS,
        long_date=de_long_date,
        **_names(data),
    )
    response = Response(html, status=status, mimetype="text/html")
    return _cacheable(response, etag, data, PAGE_MAX_AGE) if status == 200 else response


def _location_data(location_id, today):
    data = public_data(db.session, PublicFilter(location_id=location_id), today=today)
    location = data.locations.get(location_id)
    if location is None or not data.hours:
        return None, None
    return data, location


@bp.route("/orte/<int:location_id>", defaults={"fassung": "de"})
@bp.route(f"/{VARIANT}/orte/<int:location_id>")
@cookieless
def location(location_id, fassung):
    fassung = _variant(fassung)
    g.easy = fassung == "einfach"
    today = berlin_today()
    data, place = _location_data(location_id, today)
    if data is None:
        return _not_found(fassung)
    etag = fingerprint(data, fassung, "location", location_id)
    if (answer := _not_modified(etag, data, PAGE_MAX_AGE)) is not None:
        return answer
    district = data.districts.get(place.district_id)
    page_url = url_for("public_hours.location", location_id=place.id, _external=True)
    template = "consultations/public/easy_location.html" if g.easy else "consultations/public/location.html"
    html = render_template(
        template,
        fassung=fassung,
        data=data,
        place=place,
        district=district,
        hours=data.hours,
        describe=describe,
        dates=data.occurrences(today, today + timedelta(weeks=PUBLIC_WEEKS)),
        map_url=map_link(place, district),
        feed_url=url_for("public_hours.location_feed", location_id=place.id, _external=True),
        page_url=page_url,
        variants=_links("public_hours.location", location_id=place.id),
        weeks=PUBLIC_WEEKS,
        long_date=de_long_date,
        **_names(data),
    )
    return _cacheable(Response(html, mimetype="text/html"), etag, data, PAGE_MAX_AGE)


# --- calendar feeds --------------------------------------------------------------------------------


def _feed(data, name: str, filename: str):
    etag = fingerprint(data, "feed", name)
    if (answer := _not_modified(etag, data, FEED_MAX_AGE)) is not None:
        return answer
    body = calendar.feed(
        data, name=name, link_for=lambda loc_id: url_for("public_hours.location", location_id=loc_id, _external=True)
    )
    response = Response(body, mimetype="text/calendar")
    response.headers["Content-Disposition"] = f'inline; filename="{filename}"'
    return _cacheable(response, etag, data, FEED_MAX_AGE)


@bp.route("/kalender.ics")
@cookieless
def feed():
    _variant("de")
    return _feed(public_data(db.session), "Sprechstunden des Jobcenters im Stadtteil", "sprechstunden.ics")


@bp.route("/stadtteile/<int:district_id>/kalender.ics")
@cookieless
def district_feed(district_id):
    _variant("de")
    district = db.session.get(District, district_id)
    if district is None or not district.active:
        return _not_found()
    data = public_data(db.session, PublicFilter(district_id=district_id))
    return _feed(data, f"Sprechstunden des Jobcenters: {district.name}", f"sprechstunden-stadtteil-{district.id}.ics")


@bp.route("/orte/<int:location_id>/kalender.ics")
@cookieless
def location_feed(location_id):
    _variant("de")
    data, place = _location_data(location_id, berlin_today())
    if data is None:
        return _not_found()
    return _feed(data, f"Sprechstunden des Jobcenters: {place.name}", f"sprechstunden-ort-{place.id}.ics")


# --- the poster --------------------------------------------------------------------------------------

# Rendered posters by their ETag: a QR code on a poster sends many people to the page, not to the
# PDF, but a PDF renders in a second or two and nobody should make a worker do it twice.
_POSTERS: OrderedDict[str, bytes] = OrderedDict()
_POSTERS_LOCK = Lock()
POSTER_CACHE = 32


@bp.route("/orte/<int:location_id>/aushang.pdf")
@cookieless
def poster(location_id):
    _variant("de")
    today = berlin_today()
    data, place = _location_data(location_id, today)
    if data is None:
        return _not_found()
    month = request.args.get("monat", "")
    span = poster_month(today, month)
    if span is None:
        return render_template("consultations/public/not_found.html", fassung="de", bad_month=True), 400
    etag = fingerprint(data, "poster", location_id, span[0], span[1])
    if (answer := _not_modified(etag, data, PAGE_MAX_AGE)) is not None:
        return answer
    with _POSTERS_LOCK:
        content = _POSTERS.get(etag)
    if content is None:
        content = _render_poster(data, place, span)
        with _POSTERS_LOCK:
            _POSTERS[etag] = content
            while len(_POSTERS) > POSTER_CACHE:
                _POSTERS.popitem(last=False)
    response = Response(content, mimetype="application/pdf")
    response.headers["Content-Disposition"] = f'inline; filename="aushang-sprechstunden-{place.id}.pdf"'
    return _cacheable(response, etag, data, PAGE_MAX_AGE)


def _render_poster(data, place, span) -> bytes:
    import segno

    page_url = url_for("public_hours.location", location_id=place.id, _external=True)
    qr = segno.make(page_url, error="m")
    dates = [o for o in data.occurrences(span[0], span[1]) if o.takes_place]
    topic_ids = list(dict.fromkeys(t for h in data.hours for t in h.topic_ids if t in data.topics))
    html = render_template(
        "pdf/consultation_poster.html",
        place=place,
        district=data.districts.get(place.district_id),
        dates=dates,
        hours={h.id: h for h in data.hours},
        topics=[data.topics[t].name for t in topic_ids],
        languages=sorted({code for h in data.hours for code in h.languages}),
        language_names=LANGUAGES,
        month=span[1],
        qr=Markup(qr.svg_inline(scale=4, title=_("QR-Code: Adresse dieser Seite"))),
        page_url=page_url,
        long_date=de_long_date,
        de_date=de_date,
        organisation=current_app.config["ORGANISATION_NAME"],
    )
    return pdf.render_configured(html, max_pages=4)  # a month's poster, however many dates
