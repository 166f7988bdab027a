"""Conference pages: scheduling, invitations, answers and notes, the record, measures.

Every route: load, authorise (``conference.view`` first, which hides what the user must not
know about), validate the form, call one service function, commit, redirect or render.
"""

from datetime import datetime, timedelta

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_login import current_user
from sqlalchemy import select
from werkzeug.datastructures import MultiDict

from app import audit, db, workdays
from app.agencies.models import Agency, District
from app.cases.models import DATA_CATEGORIES, OBSTACLES, Case
from app.cases.services import team_staff
from app.clock import berlin_today, local_to_utc, to_local, utcnow
from app.conferences.forms import (
    AGENDA_ROWS_ADDED,
    AnswerForm,
    CancelForm,
    ConferenceFilterForm,
    ConferenceForm,
    InviteForm,
    MeasureFilterForm,
    MeasureForm,
    MeasuresForm,
    MeasureStatusForm,
    NoteForm,
    WeekForm,
    WithdrawForm,
    agenda_rows,
    fill_agenda,
    fill_measure_rows,
    fill_persons,
    measure_rows,
    person_rows,
    record_form,
    set_person_choices,
)
from app.conferences.models import (
    ATTENDANCE,
    CONFERENCE_STATUS,
    INVITATION_STATUS,
    MEASURE_STATUS,
    NOTE_VISIBILITY,
    POLL_STATUS,
    RESPONSIBLE_KINDS,
    Conference,
    Invitation,
    InvitationStatus,
    Measure,
    Note,
)
from app.conferences.services import ConferenceError, invitations, lifecycle, polls, queries, records, scheduling
from app.forms import StaleEdit, refresh_row_errors
from app.permissions import (
    Reached,
    agency_reader,
    authorize,
    can,
    partner_invitation,
    reader_of,
)

bp = Blueprint("conferences", __name__)


@bp.context_processor
def _policy_in_templates():
    # Pages show an action only when the policy would allow it.
    return {
        "may": lambda action, obj=None: can(current_user, action, obj),
    }


STALE = _l(
    "Jemand anderes hat diesen Eintrag gespeichert, nachdem Sie das Formular geöffnet haben. "
    "Ihre Änderungen sind nicht gespeichert; Ihre Eingaben stehen noch im Formular. Öffnen Sie "
    "den aktuellen Stand in einem neuen Tab, übernehmen Sie Ihre Ergänzungen dort und speichern Sie erneut."
)
# Without categories, as every new item: for the Jobcenter only until someone shares it.
DEFAULT_AGENDA = [
    _l("Begrüßung und Anlass"),
    _l("Aktuelle Situation aus Sicht der Beteiligten"),
    _l("Vereinbarung von Maßnahmen"),
    _l("Nächster Termin"),
]


def labels() -> dict:
    return {
        "conference_status": CONFERENCE_STATUS,
        "invitation_status": INVITATION_STATUS,
        "attendance": ATTENDANCE,
        "measure_status": MEASURE_STATUS,
        "visibility": NOTE_VISIBILITY,
        "categories": DATA_CATEGORIES,
        "responsible_kinds": RESPONSIBLE_KINDS,
        "obstacles": OBSTACLES,
        "poll_status": POLL_STATUS,
    }


def _conference(conference_id) -> Conference:
    # With its case, which the policy's team check then finds in the session.
    row = db.session.execute(
        select(Conference, Case).join(Case, Case.id == Conference.case_id).where(Conference.id == conference_id)
    ).first()
    if row is None:
        abort(404)
    conference, _case = row
    authorize("conference.view", conference)
    return conference


def _child(model, obj_id, conference):
    obj = db.get_or_404(model, obj_id)
    authorize("conference.part", Reached(conference, obj))  # another conference's: 404, audited
    return obj


def _form_status(form) -> int:
    """A submitted form shown again is an error (400), unless it only asked for more rows."""
    return 400 if form.is_submitted() and MORE_ROWS not in request.form else 200


def _page_arg(name):
    return db.requested_page(name)


def _stale(form):
    db.session.rollback()
    form.form_errors.append(str(STALE))


def _stale_version(form, obj) -> bool:
    """A form from before the last save, or without its version, is refused (409) before any
    warning asks for a confirmation: confirming would not save it anyway."""
    if form.version.data is None or form.version.data != obj.version:
        _stale(form)
        return True
    return False


# --- scheduling ---------------------------------------------------------------------------------


def _fill_locations(form, current_id=None):
    form.location_id.choices = [("", _("– bitte wählen –"))] + [
        (loc_id, name) for loc_id, name in scheduling.location_choices(db.session, current_id)
    ]


def _times(form):
    starts = local_to_utc(datetime.combine(form.day.data, form.start_time.data))
    ends = local_to_utc(datetime.combine(form.day.data, form.end_time.data))
    return starts, ends


def _clashes(form, starts, ends, exclude_id=None):
    """A warning the user confirms: the same place is booked at an overlapping time."""
    found = scheduling.clashes(db.session, form.location_id.data, starts, ends, exclude_id)
    if found and not form.accept_clash.data:
        form.accept_clash.errors = [
            _(
                "Der Ort ist zu dieser Zeit schon belegt. Wählen Sie einen anderen Ort "
                "oder eine andere Zeit, oder bestätigen Sie die Überschneidung."
            )
        ]
        return found
    return None


def _date_warnings(form, starts, ends, conference=None):
    """A warning the user confirms: a weekend, a Hessian public holiday, or a time outside the
    office hours. For a saved conference only when its time changes (it was confirmed before)."""
    if conference is not None and (conference.starts_at, conference.ends_at) == (starts, ends):
        return None
    found = workdays.conference_warnings(starts, ends)
    if found and not form.accept_date.data:
        form.accept_date.errors = [
            _("Bitte prüfen Sie den Termin: Wählen Sie einen anderen oder bestätigen Sie ihn trotz der Hinweise.")
        ]
        return found
    return None


def _checks(form, starts, ends, conference=None):
    """Both warnings at once, so that one round trip confirms both."""
    exclude = conference.id if conference is not None else None
    return _date_warnings(form, starts, ends, conference), _clashes(form, starts, ends, exclude)


def _schedule_data(form, starts, ends) -> dict:
    return {
        "occasion": form.occasion.data,
        "starts_at": starts,
        "ends_at": ends,
        "location_id": form.location_id.data,
        "agenda": agenda_rows(form),
        "person_attends": form.person_attends.data,
        "overridden_kinds": form.overridden_kinds,
    }


def _more_rows(form) -> bool:
    """The "more agenda rows" button: the form comes back with empty rows added, nothing saved."""
    if form.is_submitted() and MORE_ROWS in request.form:
        fill_agenda(form, agenda_rows(form), blank=AGENDA_ROWS_ADDED)
        return True
    return False


MORE_ROWS = "weitere_zeilen"


def _schedule(case, form, previous=None):
    """Shared by a new conference and a follow-up: validate, warn of the date and of clashes, save."""
    warnings = clash = None
    if _more_rows(form):
        return None, None, None
    if form.validate_on_submit():
        starts, ends = _times(form)
        warnings, clash = _checks(form, starts, ends)
        if warnings is None and clash is None:
            try:
                conference = scheduling.schedule(
                    db.session, case, current_user, previous=previous, **_schedule_data(form, starts, ends)
                )
            except ConferenceError as err:
                db.session.rollback()
                form[err.field].errors.append(err.message)
            else:
                db.session.commit()
                flash(_("Die Fallkonferenz ist geplant. Laden Sie jetzt die Einrichtungen ein."), "success")
                return None, None, redirect(url_for("conferences.view", conference_id=conference.id))
    return warnings, clash, None


@bp.route("/faelle/<int:case_id>/konferenzen/neu", methods=["GET", "POST"])
def new(case_id):
    case = db.get_or_404(Case, case_id)
    authorize("case.view", case)
    authorize("conference.create", case)
    form = ConferenceForm()
    _fill_locations(form)
    if not form.is_submitted():
        fill_agenda(form, [(str(title), []) for title in DEFAULT_AGENDA])
    warnings, clash, done = _schedule(case, form)
    if done:
        return done
    return render_template(
        "conferences/form.html",
        form=form,
        case=case,
        clash=clash,
        warnings=warnings,
        mode="new",
        conference=None,
        previous=None,
        invited=0,
    ), _form_status(form)


@bp.route("/konferenzen/<int:conference_id>/folgekonferenz", methods=["GET", "POST"])
def follow_up(conference_id):
    previous = _conference(conference_id)
    authorize("conference.follow_up", previous)
    case = db.get_or_404(Case, previous.case_id)
    form = ConferenceForm()
    _fill_locations(form, previous.location_id)
    if not form.is_submitted():
        form.occasion.data = _("Folgekonferenz")
        form.location_id.data = previous.location_id
        # The day the minutes agreed ("Nächster Termin"), at the earlier conference's hours.
        suggested = scheduling.agreed_next_date(db.session, previous)
        if suggested is not None:
            form.day.data = suggested
            form.start_time.data = to_local(previous.starts_at).time()
            form.end_time.data = to_local(previous.ends_at).time()
        fill_agenda(form, scheduling.follow_up_agenda(db.session, previous))
        form.person_attends.data = previous.person_attends
    else:
        suggested = None
    warnings, clash, done = _schedule(case, form, previous=previous)
    if done:
        return done
    return render_template(
        "conferences/form.html",
        form=form,
        case=case,
        clash=clash,
        warnings=warnings,
        mode="follow_up",
        conference=None,
        previous=previous,
        invited=0,
        suggested=suggested,
    ), _form_status(form)


@bp.route("/konferenzen/<int:conference_id>/bearbeiten", methods=["GET", "POST"])
def edit(conference_id):
    conference = _conference(conference_id)
    authorize("conference.change", conference)
    case = db.get_or_404(Case, conference.case_id)
    form = ConferenceForm()
    _fill_locations(form, conference.location_id)
    if not form.is_submitted():
        start, end = to_local(conference.starts_at), to_local(conference.ends_at)
        form.occasion.data, form.day.data = conference.occasion, start.date()
        form.start_time.data, form.end_time.data = start.time(), end.time()
        form.location_id.data, form.person_attends.data = conference.location_id, conference.person_attends
        fill_agenda(form, [(item.title, item.categories) for item in scheduling.agenda_items(db.session, conference)])
        form.version.data = conference.version
    warnings = clash = None
    status = 200
    if _more_rows(form):
        pass
    elif form.is_submitted():
        status = 400
        if form.validate_on_submit() and _stale_version(form, conference):
            status = 409
        elif form.validate_on_submit():
            starts, ends = _times(form)
            warnings, clash = _checks(form, starts, ends, conference)
            if warnings is None and clash is None:
                try:
                    changed = scheduling.update_conference(
                        db.session,
                        conference,
                        current_user,
                        version=form.version.data,
                        **_schedule_data(form, starts, ends),
                    )
                except ConferenceError as err:
                    db.session.rollback()
                    form[err.field].errors.append(err.message)
                except StaleEdit:
                    _stale(form)
                    status = 409
                else:
                    db.session.commit()
                    rescheduled = {"starts_at", "ends_at", "location_id"} & set(changed)
                    flash(
                        _("Gespeichert. Die eingeladenen Einrichtungen haben eine aktualisierte Einladung erhalten.")
                        if rescheduled
                        else _("Gespeichert."),
                        "success",
                    )
                    return redirect(url_for("conferences.view", conference_id=conference.id))
    return render_template(
        "conferences/form.html",
        form=form,
        case=case,
        clash=clash,
        warnings=warnings,
        mode="edit",
        conference=conference,
        previous=None,
        invited=len(invitations.live_invitations(db.session, conference)),
    ), status


@bp.route("/konferenzen/<int:conference_id>/absagen", methods=["GET", "POST"])
def cancel(conference_id):
    conference = _conference(conference_id)
    authorize("conference.change", conference)
    case = db.get_or_404(Case, conference.case_id)
    form = CancelForm()
    if not form.is_submitted():
        form.version.data = conference.version
    status = 400 if form.is_submitted() else 200
    if form.validate_on_submit():
        try:
            notified = scheduling.cancel_conference(
                db.session,
                conference,
                current_user,
                version=form.version.data,
                reason=form.reason.data,
                overridden_kinds=form.overridden_kinds,
            )
        except StaleEdit:
            _stale(form)
            status = 409
        else:
            db.session.commit()
            flash(
                ngettext(
                    "Die Fallkonferenz ist abgesagt; %(num)d eingeladene Einrichtung wurde benachrichtigt.",
                    "Die Fallkonferenz ist abgesagt; %(num)d eingeladene Einrichtungen wurden benachrichtigt.",
                    notified,
                )
                if notified
                else _("Die Fallkonferenz ist abgesagt. Es war keine Einrichtung eingeladen."),
                "success",
            )
            return redirect(url_for("conferences.view", conference_id=conference.id))
    return render_template("conferences/cancel.html", form=form, conference=conference, case=case), status


@bp.route("/konferenzen/<int:conference_id>/durchgefuehrt", methods=["POST"])
def mark_held(conference_id):
    conference = _conference(conference_id)
    authorize("conference.hold", conference)
    scheduling.mark_held(db.session, conference, current_user)
    db.session.commit()
    flash(_("Die Fallkonferenz ist als durchgeführt markiert."), "success")
    return redirect(url_for("conferences.view", conference_id=conference.id))


# --- the conference page --------------------------------------------------------------------------


@bp.route("/konferenzen/<int:conference_id>")
def view(conference_id):
    conference = _conference(conference_id)
    reader = reader_of(current_user, conference)
    if reader.is_jobcenter and request.args.get(PREVIEW):
        return _preview(conference, request.args.get(PREVIEW, type=int))
    if reader.is_jobcenter:
        data = queries.staff_page(db.session, conference)
        lc = lifecycle.lifecycle(
            db.session, conference, current_user, invitations=[inv for inv, _a, _u in data["invitations"]]
        )
        # Read in the route's transaction, not by the template after the commit.
        data["poll"] = polls.current_poll(db.session, conference)
        audit.record("conference.viewed", conference, actor=current_user)
        db.session.commit()
        return render_template(
            "conferences/view_staff.html", conference=conference, now=utcnow(), lc=lc, **data, **labels()
        )
    data = queries.partner_page(db.session, conference, reader, partner_invitation(current_user, conference))
    lc = lifecycle.lifecycle(db.session, conference, current_user)
    audit.record("conference.viewed", conference, actor=current_user, consent_id=reader.consent_id)
    db.session.commit()
    inv = data["invitation"]
    answered = inv.status if inv.status in (InvitationStatus.ACCEPTED, InvitationStatus.DECLINED) else None
    answer_form = AnswerForm(data={"answer": answered, "comment": inv.answer_comment})
    return render_template(
        "conferences/view_partner.html",
        conference=conference,
        answer_form=answer_form,
        preview=None,
        lc=lc,
        **data,
        **labels(),
    )


PREVIEW = "ansicht"


def _preview(conference, agency_id):
    """Staff see exactly what an invited agency sees (the same filter), read-only."""
    authorize("conference.preview", conference)
    # Ids beyond the database's integer are no agency (and no error).
    agency = db.session.get(Agency, agency_id) if agency_id and 0 < agency_id < 2**31 else None
    reader = agency_reader(conference, agency.id) if agency is not None else None
    if reader is None:
        return render_template(
            "errors/error.html",
            code=404,
            title=_("Keine Ansicht"),
            message=_(
                "Diese Einrichtung ist nicht eingeladen oder hat derzeit keine gültige Einwilligung: "
                "Sie sieht diese Fallkonferenz nicht."
            ),
        ), 404
    data = queries.partner_page(
        db.session, conference, reader, invitations.live_invitation(db.session, conference, agency.id)
    )
    audit.record("conference.previewed", conference, actor=current_user, agency_id=agency.id)
    db.session.commit()
    return render_template(
        "conferences/view_partner.html",
        conference=conference,
        answer_form=None,
        preview=agency,
        lc=None,
        **data,
        **labels(),
    )


def _filter_choices(form):
    everything = [("", _("alle"))]
    form.zeitraum.choices = [(str(p), label) for p, label in queries.PERIOD_LABELS.items()]
    form.status.choices = everything + [(str(s), label) for s, label in CONFERENCE_STATUS.items()]
    form.ort.choices = everything + [(i, n) for i, n in scheduling.location_choices(db.session)]
    form.stadtteil.choices = everything + [
        (i, n) for i, n in db.session.execute(select(District.id, District.name).order_by(District.name))
    ]
    form.moderation.choices = everything + [(u.id, u.name) for u in team_staff(db.session, current_user.team_id)]


@bp.route("/konferenzen")
def index():
    """The team's conferences: upcoming by default; filtered by period, dates, status, place,
    district and moderation (the team overview's figures link here with their filter)."""
    authorize("staff.area")
    form = ConferenceFilterForm(request.args)
    _filter_choices(form)
    if not form.zeitraum.data:
        form.zeitraum.data = str(queries.Period.UPCOMING)
    if request.args and not form.validate():
        return render_template("conferences/index.html", form=form, page=None, **labels()), 400
    f = queries.ConferenceFilter(
        period=form.zeitraum.data,
        date_from=form.von.data,
        date_to=form.bis.data,
        status=form.status.data or None,
        location_id=form.ort.data,
        district_id=form.stadtteil.data,
        organiser_id=form.moderation.data,
    )
    page = queries.team_conferences(
        db.session, current_user.team_id, f, number=_page_arg("seite"), size=current_app.config["PAGE_SIZE"]
    )
    return render_template("conferences/index.html", form=form, page=page, period=f.period, **labels())


@bp.route("/konferenzen/woche")
def week():
    """The team's conferences of one week, Monday to Sunday, by day (no JavaScript)."""
    authorize("staff.area")
    form = WeekForm(request.args)
    if request.args and not form.validate():
        return render_template("conferences/week.html", form=form, week=None, **labels()), 400
    week = queries.team_week(db.session, current_user.team_id, form.datum.data or berlin_today())
    return render_template(
        "conferences/week.html", form=form, week=week, today=berlin_today(), timedelta=timedelta, **labels()
    )


@bp.route("/konferenzen/verlauf")
def history():
    """A partner's history: every conference its agency was invited to and may see now, with
    the minutes it may read (the policy decides each row)."""
    authorize("partner.area")
    page = queries.partner_history(db.session, current_user, _page_arg("seite"), current_app.config["PAGE_SIZE"])
    return render_template("conferences/history.html", page=page, **labels())


@bp.route("/massnahmen")
def measures():
    """Open measures of the team's open cases by due date; the team overview's overdue
    figures link here."""
    authorize("staff.area")
    form = MeasureFilterForm(request.args)
    form.stand.choices = [(str(k), label) for k, label in queries.MEASURE_STATE_LABELS.items()]
    form.fachkraft.choices = [("", _("alle"))] + [(u.id, u.name) for u in team_staff(db.session, current_user.team_id)]
    if not form.stand.data:
        form.stand.data = str(queries.MeasureState.OPEN)
    if request.args and not form.validate():
        return render_template("conferences/measures.html", form=form, page=None, **labels()), 400
    page = queries.team_measures(
        db.session,
        current_user.team_id,
        state=form.stand.data,
        caseworker_id=form.fachkraft.data,
        number=_page_arg("seite"),
        size=current_app.config["PAGE_SIZE"],
    )
    return render_template("conferences/measures.html", form=form, page=page, today=berlin_today(), **labels())


# --- invitations -------------------------------------------------------------------------------------


@bp.route("/konferenzen/<int:conference_id>/einladungen", methods=["GET", "POST"])
def invite(conference_id):
    conference = _conference(conference_id)
    authorize("conference.change", conference)
    case = db.get_or_404(Case, conference.case_id)
    options = invitations.invitation_options(db.session, conference)
    form = InviteForm()
    form.agencies.choices = [(agency.id, agency.name) for agency, _consent in options.eligible]
    form.people.choices = [(user.id, f"{user.name} ({agency_name})") for user, agency_name in options.people]
    if form.validate_on_submit():
        try:
            created = invitations.invite(
                db.session, conference, current_user, agency_ids=form.agencies.data, user_ids=form.people.data or []
            )
        except ConferenceError as err:
            db.session.rollback()
            form[err.field].errors.append(err.message)
        else:
            db.session.commit()
            flash(ngettext("%(num)d Einladung verschickt.", "%(num)d Einladungen verschickt.", len(created)), "success")
            return redirect(url_for("conferences.view", conference_id=conference.id))
    return render_template(
        "conferences/invite.html", form=form, conference=conference, case=case, options=options, **labels()
    ), (400 if form.is_submitted() else 200)


def _live_invitation(conference, invitation_id) -> Invitation:
    invitation = _child(Invitation, invitation_id, conference)
    authorize("invitation.change", invitation)
    return invitation


@bp.route("/konferenzen/<int:conference_id>/einladungen/<int:invitation_id>/erneut-senden", methods=["POST"])
def resend(conference_id, invitation_id):
    conference = _conference(conference_id)
    authorize("conference.change", conference)
    invitation = _live_invitation(conference, invitation_id)
    invitations.resend_invitation(db.session, conference, invitation, current_user)
    db.session.commit()
    flash(_("Die Einladung wurde erneut verschickt."), "success")
    return redirect(url_for("conferences.view", conference_id=conference.id))


@bp.route("/konferenzen/<int:conference_id>/einladungen/<int:invitation_id>/zurueckziehen", methods=["POST"])
def withdraw_invitation(conference_id, invitation_id):
    conference = _conference(conference_id)
    authorize("conference.change", conference)
    invitation = _live_invitation(conference, invitation_id)
    invitations.cancel_invitation(db.session, invitation, current_user, reason="withdrawn")
    db.session.commit()
    flash(_("Die Einladung ist zurückgezogen; die Einrichtung wurde benachrichtigt."), "success")
    return redirect(url_for("conferences.view", conference_id=conference.id))


@bp.route("/konferenzen/<int:conference_id>/antwort", methods=["GET", "POST"])
def answer(conference_id):
    conference = _conference(conference_id)
    authorize("conference.answer", conference)
    invitation = partner_invitation(current_user, conference)
    form = AnswerForm()
    if not form.is_submitted():
        form.answer.data = (
            invitation.status if invitation.status in (InvitationStatus.ACCEPTED, InvitationStatus.DECLINED) else None
        )
        form.comment.data = invitation.answer_comment
    if form.validate_on_submit():
        invitations.answer_invitation(
            db.session,
            invitation,
            current_user,
            answer=form.answer.data,
            comment=form.comment.data,
            overridden_kinds=form.overridden_kinds,
        )
        db.session.commit()
        flash(
            _("Ihre Zusage ist gespeichert.")
            if form.answer.data == InvitationStatus.ACCEPTED
            else _("Ihre Absage ist gespeichert."),
            "success",
        )
        return redirect(url_for("conferences.view", conference_id=conference.id))
    case = db.get_or_404(Case, conference.case_id)
    return render_template(
        "conferences/answer.html",
        form=form,
        conference=conference,
        pseudonym=case.pseudonym,
        invitation=invitation,
        **labels(),
    ), (400 if form.is_submitted() else 200)


# --- notes -------------------------------------------------------------------------------------------


def _note_form(conference, note=None):
    """A partner tags only categories its consent covers; the Jobcenter any."""
    form = NoteForm()
    reader = reader_of(current_user, conference)
    allowed = records.note_category_choices(reader)
    form.categories.choices = [(key, DATA_CATEGORIES[key]) for key in allowed]
    if note is not None and not form.is_submitted():
        form.body.data, form.visibility.data, form.version.data = note.body, note.visibility, note.version
        form.categories.data = [c for c in note.categories if c in allowed]
    return form, reader


@bp.route("/konferenzen/<int:conference_id>/stellungnahmen/neu", methods=["GET", "POST"])
def note_new(conference_id):
    conference = _conference(conference_id)
    authorize("note.create", conference)
    form, reader = _note_form(conference)
    if form.validate_on_submit():
        records.add_note(
            db.session,
            conference,
            current_user,
            body=form.body.data,
            categories=form.categories.data,
            visibility=form.visibility.data,
            overridden_kinds=form.overridden_kinds,
        )
        db.session.commit()
        flash(_("Die Stellungnahme ist gespeichert."), "success")
        return redirect(url_for("conferences.view", conference_id=conference.id, _anchor="stellungnahmen"))
    case = db.get_or_404(Case, conference.case_id)
    return render_template(
        "conferences/note_form.html",
        form=form,
        conference=conference,
        note=None,
        pseudonym=case.pseudonym,
        reader=reader,
    ), (400 if form.is_submitted() else 200)


@bp.route("/konferenzen/<int:conference_id>/stellungnahmen/<int:note_id>", methods=["GET", "POST"])
def note_edit(conference_id, note_id):
    conference = _conference(conference_id)
    note = _child(Note, note_id, conference)
    authorize("note.edit", note)
    form, reader = _note_form(conference, note)
    status = 400 if form.is_submitted() else 200
    if form.validate_on_submit():
        try:
            records.edit_note(
                db.session,
                note,
                current_user,
                version=form.version.data,
                body=form.body.data,
                categories=form.categories.data,
                visibility=form.visibility.data,
                overridden_kinds=form.overridden_kinds,
            )
        except StaleEdit:
            _stale(form)
            status = 409
        else:
            db.session.commit()
            flash(_("Die Stellungnahme ist gespeichert."), "success")
            return redirect(url_for("conferences.view", conference_id=conference.id, _anchor="stellungnahmen"))
    case = db.get_or_404(Case, conference.case_id)
    return render_template(
        "conferences/note_form.html",
        form=form,
        conference=conference,
        note=note,
        pseudonym=case.pseudonym,
        reader=reader,
    ), status


@bp.route("/konferenzen/<int:conference_id>/stellungnahmen/<int:note_id>/zurueckziehen", methods=["POST"])
def note_withdraw(conference_id, note_id):
    conference = _conference(conference_id)
    note = _child(Note, note_id, conference)
    authorize("note.edit", note)
    form = WithdrawForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        records.withdraw_note(db.session, note, current_user, version=form.version.data)
    except StaleEdit:
        db.session.rollback()
        return render_template(
            "errors/error.html",
            code=409,
            title=_("Zwischenzeitlich geändert"),
            message=_(
                "Die Stellungnahme wurde inzwischen geändert. Bitte prüfen Sie den "
                "aktuellen Stand und ziehen Sie sie dann erneut zurück."
            ),
        ), 409
    db.session.commit()
    flash(_("Die Stellungnahme ist zurückgezogen."), "success")
    return redirect(url_for("conferences.view", conference_id=conference.id, _anchor="stellungnahmen"))


# --- in the conference ---------------------------------------------------------------------------------


@bp.route("/konferenzen/<int:conference_id>/durchfuehrung", methods=["GET", "POST"])
def record(conference_id):
    conference = _conference(conference_id)
    authorize("conference.edit", conference)
    invited = invitations.live_invitations(db.session, conference)
    items = scheduling.agenda_items(db.session, conference)
    form = record_form(invited, items)
    agencies = [(inv.agency_id, name) for inv, name in invited]
    if not form.is_submitted():
        form.version.data = conference.version
        form.person_attended.data = {True: "yes", False: "no"}.get(conference.person_attended, "")
        fill_persons(form, records.attending_persons(db.session, conference), agencies)
    elif MORE_ROWS in request.form:
        set_person_choices(form, agencies)
        fill_persons(form, person_rows(form), agencies)
    set_person_choices(form, agencies)
    status = 400 if form.is_submitted() and MORE_ROWS not in request.form else 200
    if status == 400 and form.validate_on_submit():
        try:
            records.record_conference(
                db.session,
                conference,
                current_user,
                version=form.version.data,
                person_attended={"yes": True, "no": False}.get(form.person_attended.data),
                attendance={inv.id: form[f"attendance_{inv.id}"].data or None for inv, _name in invited},
                discussion={item.id: (form[f"discussion_{item.id}"].data or "").strip() for item in items},
                categories={item.id: form[f"categories_{item.id}"].data or [] for item in items},
                persons=person_rows(form),
                overridden_kinds=form.overridden_kinds,
            )
        except ConferenceError as err:
            db.session.rollback()
            form.persons.errors = list(form.persons.errors) + [err.message]
        except StaleEdit:
            _stale(form)
            status = 409
        else:
            db.session.commit()
            flash(_("Anwesenheit und Besprechung sind gespeichert."), "success")
            return redirect(url_for("conferences.view", conference_id=conference.id))
    case = db.get_or_404(Case, conference.case_id)
    return render_template(
        "conferences/record.html",
        form=form,
        conference=conference,
        pseudonym=case.pseudonym,
        invitations=invited,
        items=items,
    ), status


def _measure_form(conference, measure=None):
    form = MeasureForm()
    # The same choices the service accepts: an agency keeps the measure it holds after its invitation ended.
    form.responsible.choices = records.responsible_choices(db.session, conference, measure)
    if measure is not None and not form.is_submitted():
        form.what.data, form.categories.data = measure.what, list(measure.categories)
        form.responsible.data, form.due_on.data = records.responsible_value(measure), measure.due_on
        form.status.data, form.outcome.data, form.version.data = measure.status, measure.outcome, measure.version
    return form


def _status_form(measure):
    form = MeasureStatusForm(categories=measure.categories)
    if not form.is_submitted():
        form.status.data, form.outcome.data, form.version.data = measure.status, measure.outcome, measure.version
    return form


# A client that posts one measure with the single form's field names (as before several rows
# existed) still gets it saved: its fields become the first row.
_SINGLE_MEASURE_FIELDS = ("what", "categories", "responsible", "due_on", "status")


def _measures_formdata():
    form = request.form
    if "what" not in form or any(key.startswith("rows-") for key in form):
        return None
    data = MultiDict((key, value) for key, value in form.items(multi=True) if key not in _SINGLE_MEASURE_FIELDS)
    for name in _SINGLE_MEASURE_FIELDS:
        for value in form.getlist(name):
            data.add(f"rows-0-{name}", value)
    return data


def _due_warnings(form, days, unchanged=()):
    """A warning the user confirms: due dates in the past, on a weekend or a Hessian public holiday."""
    found = [warning for day in sorted(set(days) - set(unchanged)) for warning in workdays.due_warnings(day)]
    if found and not form.accept_date.data:
        form.accept_date.errors = [
            _("Bitte prüfen Sie das Fälligkeitsdatum: Ändern Sie es oder bestätigen Sie es trotz der Hinweise.")
        ]
        return found
    return None


def _row_error(form, err) -> None:
    """Show a service's refusal at its row's field ("rows-<index>-<field>")."""
    _rows, index, name = err.field.split("-", 2)
    form.rows.entries[int(index)].form[name].errors.append(err.message)
    refresh_row_errors(form)


@bp.route("/konferenzen/<int:conference_id>/massnahmen/neu", methods=["GET", "POST"])
def measure_new(conference_id):
    """Several measures in one form; "Weitere Zeilen" adds empty rows (a round trip, no JavaScript)."""
    conference = _conference(conference_id)
    authorize("conference.edit", conference)
    legacy = _measures_formdata() if request.method == "POST" else None
    form = MeasuresForm(formdata=legacy) if legacy is not None else MeasuresForm()
    choices = records.responsible_choices(db.session, conference)
    if not form.is_submitted():
        fill_measure_rows(form)
    elif MORE_ROWS in request.form:
        form.set_responsible_choices(choices)
        fill_measure_rows(form, measure_rows(form))
    form.set_responsible_choices(choices)
    warnings, status = None, 400 if form.is_submitted() and MORE_ROWS not in request.form else 200
    if status == 400 and form.validate_on_submit():
        rows = measure_rows(form)
        warnings = _due_warnings(form, [row["due_on"] for row in rows])
        if warnings is None:
            try:
                added = records.add_measures(
                    db.session, conference, current_user, rows=rows, overridden_kinds=form.overridden_kinds
                )
            except ConferenceError as err:
                db.session.rollback()
                _row_error(form, err)
            else:
                db.session.commit()
                flash(
                    ngettext("%(num)s Maßnahme ist gespeichert.", "%(num)s Maßnahmen sind gespeichert.", len(added)),
                    "success",
                )
                return redirect(url_for("conferences.view", conference_id=conference.id, _anchor="massnahmen"))
    case = db.get_or_404(Case, conference.case_id)
    return render_template(
        "conferences/measures_form.html",
        form=form,
        conference=conference,
        pseudonym=case.pseudonym,
        warnings=warnings,
    ), status


@bp.route("/konferenzen/<int:conference_id>/massnahmen/<int:measure_id>", methods=["GET", "POST"])
def measure_edit(conference_id, measure_id):
    conference = _conference(conference_id)
    measure = _child(Measure, measure_id, conference)
    authorize("measure.update", measure)
    # What, who and by when only while the conference is open (the policy); after its minutes
    # are final, and for the responsible partner, status and outcome only.
    terms = can(current_user, "measure.edit_terms", measure)
    form = _measure_form(conference, measure) if terms else _status_form(measure)
    status = 400 if form.is_submitted() else 200
    warnings = None
    if form.validate_on_submit() and _stale_version(form, measure):
        status = 409
    elif form.validate_on_submit() and terms:
        warnings = _due_warnings(form, [form.due_on.data], unchanged=[measure.due_on])
    if status != 409 and form.validate_on_submit() and warnings is None:
        try:
            if terms:
                records.update_measure(
                    db.session,
                    measure,
                    current_user,
                    version=form.version.data,
                    what=form.what.data,
                    categories=form.categories.data or [],
                    responsible=form.responsible.data,
                    due_on=form.due_on.data,
                    status=form.status.data,
                    outcome=form.outcome.data,
                    overridden_kinds=form.overridden_kinds,
                )
            else:
                records.update_measure_status(
                    db.session,
                    measure,
                    current_user,
                    version=form.version.data,
                    status=form.status.data,
                    outcome=form.outcome.data,
                    overridden_kinds=form.overridden_kinds,
                )
        except ConferenceError as err:
            db.session.rollback()
            form[err.field].errors.append(err.message)
        except StaleEdit:
            _stale(form)
            status = 409
        else:
            db.session.commit()
            flash(_("Die Maßnahme ist gespeichert."), "success")
            return redirect(url_for("conferences.view", conference_id=conference.id, _anchor="massnahmen"))
    case = db.get_or_404(Case, conference.case_id)
    return render_template(
        "conferences/measure_form.html",
        form=form,
        conference=conference,
        measure=measure,
        pseudonym=case.pseudonym,
        mode="edit" if terms else "status",
        warnings=warnings,
    ), status


@bp.route("/konferenzen/<int:conference_id>/ueberpruefung/<int:measure_id>", methods=["GET", "POST"])
def measure_review(conference_id, measure_id):
    conference = _conference(conference_id)
    authorize("conference.edit", conference)
    measure = db.get_or_404(Measure, measure_id)
    authorize("conference.review", Reached(conference, measure))
    form = _status_form(measure)
    status = 400 if form.is_submitted() else 200
    if form.validate_on_submit():
        try:
            records.update_measure_status(
                db.session,
                measure,
                current_user,
                version=form.version.data,
                status=form.status.data,
                outcome=form.outcome.data,
                review_conference=conference,
                overridden_kinds=form.overridden_kinds,
            )
        except StaleEdit:
            _stale(form)
            status = 409
        else:
            db.session.commit()
            flash(_("Die Überprüfung der Maßnahme ist gespeichert."), "success")
            return redirect(url_for("conferences.view", conference_id=conference.id, _anchor="ueberpruefung"))
    case = db.get_or_404(Case, conference.case_id)
    return render_template(
        "conferences/measure_form.html",
        form=form,
        conference=conference,
        measure=measure,
        pseudonym=case.pseudonym,
        mode="review",
    ), status


# The date poll's pages (Terminabstimmung) register on this blueprint.
from app.conferences import poll_routes  # noqa: E402,F401
