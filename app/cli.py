"""flask commands: create-admin, seed-demo, audit-verify, send-reminders, send-mail, backup, restore,
confirm-account-change, retention-run."""

import sys
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext
from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy import select

from app import audit, db, links


def init_app(app):
    app.cli.add_command(create_admin)
    app.cli.add_command(seed_demo)
    app.cli.add_command(audit_verify)
    app.cli.add_command(send_reminders)
    app.cli.add_command(send_mail)
    app.cli.add_command(backup)
    app.cli.add_command(restore)
    app.cli.add_command(generate_data)
    app.cli.add_command(confirm_account_change)
    app.cli.add_command(retention_run)


@click.command("create-admin")
@with_appcontext
@click.option("--email", required=True)
@click.option("--name", default="Administration")
@click.password_option()
def create_admin(email, name, password):
    """Create an administrator account."""
    from app.accounts.models import Role, User
    from app.accounts.services import hash_password

    s = db.get_session()
    if s.execute(select(User).where(User.email == email.lower())).scalar_one_or_none():
        raise click.ClickException("Ein Konto mit dieser E-Mail-Adresse gibt es schon.")
    user = User(email=email.lower(), name=name, role=Role.ADMIN, password_hash=hash_password(password))
    s.add(user)
    s.flush()
    audit.record("user.created", user, session=s, role=Role.ADMIN, via="cli")
    s.commit()
    click.echo(f"Administrator {email} angelegt.")


@click.command("seed-demo")
@with_appcontext
@click.option("--if-empty", is_flag=True, help="Nur, wenn noch keine Benutzer:innen existieren.")
def seed_demo(if_empty):
    """Load the demo data (districts, teams, agencies, locations, accounts)."""
    from app.demo import seed

    if current_app.config["APP_ENV"] == "production":
        raise click.ClickException("Demodaten sind in Produktion nicht erlaubt.")
    created = seed(db.get_session(), if_empty=if_empty)
    click.echo("Demodaten angelegt." if created else "Datenbank enthält schon Daten – nichts geändert.")


@click.command("audit-verify")
@with_appcontext
def audit_verify():
    """Check the audit trail's hash chain; exit 1 at the first broken entry."""
    count, broken = audit.verify(db.get_session())
    if broken is None:
        click.echo(f"OK: {count} Einträge, Kette vollständig.")
        return
    click.echo(f"FEHLER: Kette unterbrochen bei Eintrag {broken} (nach {count} gültigen Einträgen).")
    sys.exit(1)


@click.command("generate-data")
@with_appcontext
@click.option("--cases", type=click.IntRange(1, 2_000_000), default=1000, show_default=True)
@click.option("--batch", type=click.IntRange(100, 20_000), default=1000, show_default=True)
@click.option("--seed", type=int, default=1, show_default=True, help="Zufallsstartwert, für wiederholbare Daten.")
def generate_data(cases, batch, seed):
    """Fill the database with realistic synthetic data (for benchmarks)."""
    from app.demo import seed as seed_demo
    from app.generate import generate

    if current_app.config["APP_ENV"] == "production":
        raise click.ClickException("Synthetische Daten sind in Produktion nicht erlaubt.")
    s = db.get_session()
    seed_demo(s, if_empty=True)
    totals = generate(s, cases, batch=batch, seed=seed, echo=click.echo)
    click.echo("Angelegt: " + ", ".join(f"{k} {v}" for k, v in totals.items()))


@click.command("send-reminders")
@with_appcontext
def send_reminders():
    """E-mail reminders: conferences in the next two days, measures due within three days or overdue.

    Written for cron (several runs a day are fine): whatever was reminded is marked in the
    same transaction, so a second run sends nothing new.
    """
    from app.conferences.services.reminders import cancel_invitations_without_consent, poll_reminders
    from app.conferences.services.reminders import send_reminders as run

    s = db.get_session()
    # One transaction, as before; its audit entries are chained at the commit, so the chain's
    # lock is not held while the job renders its e-mails (page views on every server wait for it).
    audit.defer(s)
    cancelled = cancel_invitations_without_consent(s)
    conferences, measures = run(s)
    polls, left = poll_reminders(s)
    s.commit()
    click.echo(
        _(
            "Erinnerungen verschickt: %(conferences)s, %(measures)s; %(cancelled)s; "
            "Terminabstimmungen: %(polls)s, %(left)s.",
            conferences=ngettext("%(num)d Fallkonferenz", "%(num)d Fallkonferenzen", conferences),
            measures=ngettext("%(num)d Maßnahme", "%(num)d Maßnahmen", measures),
            cancelled=ngettext(
                "%(num)d Einladung wegen abgelaufener Einwilligung zurückgezogen",
                "%(num)d Einladungen wegen abgelaufener Einwilligung zurückgezogen",
                cancelled,
            ),
            polls=ngettext("%(num)d Erinnerung", "%(num)d Erinnerungen", polls),
            left=ngettext(
                "%(num)d Einrichtung ohne gültige Einwilligung entfernt",
                "%(num)d Einrichtungen ohne gültige Einwilligung entfernt",
                left,
            ),
        )
    )
    _send_outbox()


@click.command("send-mail")
@with_appcontext
@click.option(
    "--retry-failed",
    is_flag=True,
    help="Fehlgeschlagene E-Mails erneut in die Warteschlange stellen (nach einer Störung des Mailservers).",
)
def send_mail(retry_failed):
    """Deliver the outbox: every e-mail that is due, with retries and backoff.

    Written for a timer (every few minutes): two runs at once never send the same e-mail.
    Exit 1 while the mail server cannot be reached, so the timer's log shows it.
    """
    from app import mail

    if retry_failed:
        s = db.get_session()
        n = mail.retry_failed(s)
        s.commit()
        click.echo(
            ngettext(
                "%(num)d fehlgeschlagene E-Mail wieder in der Warteschlange.",
                "%(num)d fehlgeschlagene E-Mails wieder in der Warteschlange.",
                n,
            )
        )
    if _send_outbox().interrupted:
        sys.exit(1)


def _send_outbox():
    from app import mail

    report = mail.deliver(current_app._get_current_object())
    waiting, failed = mail.outbox_counts(db.get_session())
    click.echo(
        f"E-Mails: {report.sent} versandt, {report.retrying} zum erneuten Versuch zurückgestellt, "
        f"{report.failed} endgültig fehlgeschlagen; im Postausgang {waiting} wartend, "
        f"{failed} fehlgeschlagen."
    )
    if report.interrupted:
        click.echo("Der Mailserver war nicht erreichbar; die übrigen E-Mails folgen beim nächsten Lauf.")
    return report


@click.command("backup")
@with_appcontext
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
def backup(path):
    """Back up the database to PATH while the application runs (SQLite: online backup API;
    PostgreSQL: pg_dump --format=custom). Checks the copy: integrity and the audit chain."""
    from app import backup as ops

    try:
        summary = ops.backup(current_app._get_current_object(), path)
    except ops.BackupError as err:
        raise click.ClickException(str(err)) from None
    click.echo(
        f"Sicherung geschrieben: {summary.path} ({summary.size} Bytes, "
        f"{summary.audit_entries} Audit-Einträge, Kette vollständig)"
    )
    click.echo(f"SHA-256: {summary.sha256}")


@click.command("restore")
@with_appcontext
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--yes", is_flag=True, help="Ohne Rückfrage.")
def restore(path, yes):
    """Replace the database with the backup at PATH. Refuses while the application runs;
    checks integrity and the audit chain of the copy first; raises the pseudonym counter to
    its high-water mark, so no pseudonym is handed out twice."""
    from app import backup as ops

    if not yes:
        click.confirm(f"Die Datenbank durch die Sicherung {path} ersetzen?", abort=True)
    try:
        restored = ops.restore(current_app._get_current_object(), path)
    except ops.BackupError as err:
        raise click.ClickException(str(err)) from None
    click.echo(
        f"Wiederhergestellt aus {path}: integrity_check ok, audit-verify ok ({restored.audit_entries} Einträge)."
    )
    counters = ", ".join(f"{y}: {n}" for y, n in sorted(restored.counters.items())) or "keine"
    click.echo(f"Pseudonym-Zähler (letzte vergebene Nummer je Jahr): {counters}")
    if restored.kept:
        click.echo(f"Die ersetzte Datenbank liegt unter {restored.kept}.")
    click.echo("Falls die Sicherung älter als der Code ist: `alembic upgrade head`, dann die Anwendung starten.")


@click.command("confirm-account-change")
@with_appcontext
@click.argument("change_id", type=int)
@click.option("--refuse", is_flag=True, help="Ablehnen statt bestätigen.")
def confirm_account_change(change_id, refuse):
    """Confirm (or refuse) an admin's account change on the server.

    For a team without a team lead who could confirm it, above all the first team lead of a new
    team; otherwise a team lead confirms on their start page. Audited without a user as actor.
    """
    from app.accounts import services
    from app.accounts.models import AccountChange

    s = db.get_session()
    change = s.get(AccountChange, change_id)
    if change is None:
        raise click.ClickException(f"Keine Kontoänderung mit der Nummer {change_id}.")
    try:
        services.decide_change(
            s,
            change,
            actor=None,
            confirm=not refuse,
            invite_lifetime=current_app.config["ACCOUNT_TOKEN_LIFETIME"],
            base_url=links.base_url(),
        )
    except services.AccountChangeError as err:
        raise click.ClickException(str(err.message)) from None
    s.commit()
    click.echo(f"Kontoänderung {change_id} {'abgelehnt' if refuse else 'bestätigt'}.")


@click.command("retention-run")
@with_appcontext
@click.option("--dry-run", is_flag=True, help="Nur zählen, was fällig ist; nichts löschen.")
def retention_run(dry_run):
    """Delete what the retention rules make due (app/retention.py), in batches; audited.

    Written for a daily timer: a second run the same day finds nothing new.
    """
    from app import retention
    from app.clock import berlin_today

    policy = retention.Policy.from_config(current_app.config)
    today = berlin_today()
    if dry_run:
        s = db.get_session()
        due = retention.plan(s, today, policy)
        rows = retention.preview(s, due)
        s.rollback()
        click.echo(
            f"Fällig am {today.strftime('%d.%m.%Y')} (Aufbewahrung: Fallinhalte {policy.case_years} Jahre, "
            f"Protokolle {policy.minutes_years} Jahre nach Abschluss):"
        )
        click.echo(f"  Fälle vollständig zu löschen: {len(due.full)}")
        click.echo(f"  Fälle, deren Inhalte zu löschen sind (Protokolle bleiben): {len(due.content)}")
        click.echo(f"  Widerrufene Einwilligungen, deren Stellungnahmen zu löschen sind: {len(due.withdrawn)}")
        click.echo(f"  E-Mails im Postausgang älter als {policy.outbox_days} Tage: {due.outbox}")
        if rows:
            click.echo("Zeilen, die mit diesen Fällen und Einwilligungen gelöscht würden:")
            for table, n in sorted(rows.items()):
                click.echo(f"  {table}: {n}")
        click.echo("Probelauf: nichts gelöscht.")
        return
    result = retention.run(current_app.extensions["db_sessionmaker"], today, policy)
    rows = ", ".join(f"{table} {n}" for table, n in sorted(result.rows.items()) if n) or "keine"
    click.echo("Gelöscht:")
    click.echo(f"  Fälle vollständig: {result.cases_deleted}")
    click.echo(f"  Fälle bis auf ihre Protokolle: {result.cases_reduced}")
    click.echo(f"  Stellungnahmen widerrufener Einwilligungen: {result.agencies_cleared}")
    click.echo(f"  alte E-Mails im Postausgang: {result.outbox_deleted}")
    click.echo(f"  Zeilen: {rows}")
