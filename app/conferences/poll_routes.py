"""Finding a date (Terminabstimmung) for a planned conference: the organiser proposes slots and
picks one; the asked agencies answer. Registered on the conferences blueprint (imported at the end
of ``app.conferences.routes``). Every route: load, authorise, validate, one service, commit,
redirect or render."""

from datetime import datetime

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user
from sqlalchemy import select

from app import db
from app.cases.models import Case
from app.clock import local_to_utc
from app.conferences.forms import DecideForm, PollForm, poll_answer_form
from app.conferences.models import POLL_ANSWERS, POLL_STATUS, Conference, PollSlot, SlotStatus
from app.conferences.routes import STALE, _conference, bp
from app.conferences.services import ConferenceError, polls, scheduling
from app.forms import StaleEdit
from app.permissions import authorize, is_partner, poll_participant


def _poll(conference_id):
    """The conference's current poll, for whoever may see it (partners: only while asked and their
    consent holds). No poll: 404 after the conference's own rule (so nothing is learnt of it)."""
    conference = db.session.get(Conference, conference_id)
    if conference is None:
        abort(404)
    poll = polls.current_poll(db.session, conference)
    if poll is None:
        authorize("conference.view", conference)
        abort(404)
    authorize("poll.view", poll)
    return conference, poll


def _labels() -> dict:
    return {"poll_answers": POLL_ANSWERS, "poll_status": POLL_STATUS}


@bp.route("/konferenzen/<int:conference_id>/terminabstimmung/neu", methods=["GET", "POST"])
def poll_new(conference_id):
    conference = _conference(conference_id)
    authorize("poll.create", conference)
    case = db.session.get(Case, conference.case_id)
    form = PollForm()
    locations = [("", _("– bitte wählen –"))] + [
        (loc_id, name) for loc_id, name in scheduling.location_choices(db.session)
    ]
    for row in form.slots:
        row.form.location_id.choices = locations
    askable = polls.askable_agencies(db.session, conference)
    form.agencies.choices = [(a.id, a.name) for a in askable]
    status = 400 if form.is_submitted() else 200
    if form.validate_on_submit():
        slots = [
            (
                local_to_utc(datetime.combine(row.day.data, row.start_time.data)),
                local_to_utc(datetime.combine(row.day.data, row.end_time.data)),
                row.location_id.data,
            )
            for row in form.filled_slots()
        ]
        try:
            polls.create_poll(
                db.session,
                conference,
                current_user,
                slots=slots,
                agency_ids=form.agencies.data,
                answer_until=form.answer_until.data,
            )
        except ConferenceError as err:
            db.session.rollback()
            form[err.field].errors.append(err.message)
        else:
            db.session.commit()
            flash(_("Die Terminabstimmung läuft; die Einrichtungen sind per E-Mail gefragt."), "success")
            return redirect(url_for("conferences.poll", conference_id=conference.id))
    return render_template(
        "conferences/poll_form.html", form=form, conference=conference, case=case, askable=askable
    ), status


@bp.route("/konferenzen/<int:conference_id>/terminabstimmung")
def poll(conference_id):
    conference, poll = _poll(conference_id)
    case = db.session.get(Case, conference.case_id)
    if is_partner(current_user):
        return _partner_page(conference, poll, case.pseudonym)
    result = polls.table(db.session, poll, conference)
    form = DecideForm(data={"version": poll.version})
    form.slot.choices = [(row.slot.id, str(row.slot.id)) for row in result.rows]
    return render_template(
        "conferences/poll_staff.html",
        conference=conference,
        case=case,
        poll=poll,
        result=result,
        form=form,
        **_labels(),
    )


def _partner_page(conference, poll, pseudonym, form=None, status=200):
    participant = poll_participant(current_user, poll)
    slots = [(s, loc) for s, loc in polls.slots_of(db.session, poll) if s.status == SlotStatus.PROPOSED]
    if form is None:
        given = polls.answers_of(db.session, participant)
        form = poll_answer_form(slots)
        for slot, _loc in slots:
            form[f"slot_{slot.id}"].data = given.get(slot.id)
        form.comment.data, form.version.data = participant.comment, participant.version
    chosen = next((s for s, _loc in polls.slots_of(db.session, poll) if s.status == SlotStatus.CHOSEN), None)
    return render_template(
        "conferences/poll_partner.html",
        conference=conference,
        poll=poll,
        pseudonym=pseudonym,
        slots=slots,
        form=form,
        participant=participant,
        chosen=chosen,
        **_labels(),
    ), status


@bp.route("/konferenzen/<int:conference_id>/terminabstimmung/antwort", methods=["POST"])
def poll_answer(conference_id):
    conference, poll = _poll(conference_id)
    authorize("poll.answer", poll)
    participant = poll_participant(current_user, poll)
    slots = [(s, loc) for s, loc in polls.slots_of(db.session, poll) if s.status == SlotStatus.PROPOSED]
    form = poll_answer_form(slots)
    status = 400
    if form.validate_on_submit():
        try:
            polls.answer(
                db.session,
                poll,
                participant,
                current_user,
                version=form.version.data,
                answers=form.answers(),
                comment=form.comment.data,
                overridden_kinds=form.overridden_kinds,
            )
        except ConferenceError as err:
            db.session.rollback()
            form.form_errors.append(str(err.message))
        except StaleEdit:
            db.session.rollback()
            form.form_errors.append(str(STALE))
            status = 409
        else:
            db.session.commit()
            flash(_("Ihre Antwort ist gespeichert."), "success")
            return redirect(url_for("conferences.poll", conference_id=conference.id))
    case = db.session.get(Case, conference.case_id)
    return _partner_page(conference, poll, case.pseudonym, form=form, status=status)


@bp.route("/konferenzen/<int:conference_id>/terminabstimmung/entscheidung", methods=["POST"])
def poll_decide(conference_id):
    conference, poll = _poll(conference_id)
    authorize("poll.decide", poll)
    case = db.session.get(Case, conference.case_id)
    result = polls.table(db.session, poll, conference)
    form = DecideForm()
    form.slot.choices = [(row.slot.id, str(row.slot.id)) for row in result.rows]
    status = 400
    if form.validate_on_submit():
        slot = db.session.execute(select(PollSlot).where(PollSlot.id == form.slot.data)).scalar_one()
        try:
            created = polls.decide(db.session, poll, conference, slot, current_user, version=form.version.data)
        except ConferenceError as err:
            db.session.rollback()
            form.slot.errors = list(form.slot.errors) + [str(err.message)]
        except StaleEdit:
            db.session.rollback()
            form.form_errors.append(str(STALE))
            status = 409
        else:
            db.session.commit()
            flash(
                ngettext(
                    "Der Termin steht fest; %(num)d Einladung mit Kalenderdatei ist verschickt.",
                    "Der Termin steht fest; %(num)d Einladungen mit Kalenderdatei sind verschickt.",
                    len(created),
                ),
                "success",
            )
            return redirect(url_for("conferences.view", conference_id=conference.id))
    return render_template(
        "conferences/poll_staff.html",
        conference=conference,
        case=case,
        poll=poll,
        result=result,
        form=form,
        **_labels(),
    ), status
