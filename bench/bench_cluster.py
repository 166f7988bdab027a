"""Two application servers on one PostgreSQL (issue 17): load on both, cron jobs on both at once.

    .venv/bin/python bench/bench_cluster.py                        # throwaway PostgreSQL, 100,000 cases
    .venv/bin/python bench/bench_cluster.py --pg-server URL        # a running server (python -m tests.pg);
                                                                   # copies its fk_pages_<N> if built
    .venv/bin/python bench/bench_cluster.py --cases 1000 --seconds 20

What it does, as a deployment with two hosts behind nginx would:

- two gunicorn instances ("node A", "node B", 2 sync workers each) on two loopback ports, on
  the same PostgreSQL database, each with an instance folder of its own (lock file, outbox
  folder: what each host has locally), the same SECRET_KEY, and ONE pseudonym high-water file
  (the shared storage the README asks for with several hosts);
- the page mix of bench_load.py against both at once (two wrk runs, 16 connections each);
  clients 9–16 use their sessions on both nodes at the same time (one cookie, two servers);
- on each node a writer opening cases through the real form (GET the form, POST it with its
  CSRF token), so both nodes hand out pseudonyms at the same time;
- half-way, `flask send-reminders` on both nodes at the same moment (each then delivers the
  outbox into its own folder), followed by `flask send-mail` on both at the same moment.
  Before the run the database is given work for them: conferences in the next two days not
  yet reminded, measures due or overdue not yet reminded, and the invitations whose consent
  has expired that the generator leaves.

Then it checks: 0 errors (wrk, writers, jobs, server logs); no e-mail twice (no outbox
message delivered by both nodes, no two messages with the same recipient and body, each
conference and measure reminded once, each expired invitation cancelled once, nothing left
undelivered); `flask audit-verify` passes; no pseudonym twice, all at or below the shared
high-water mark. Prints a table of what was measured. Benchmarks are measured here, never
asserted in tests (the tests of each piece are in tests/).
"""

import argparse
import email
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from collections import Counter
from email import policy
from http.client import HTTPConnection
from pathlib import Path

from bench_load import (
    CLIENTS,
    ROTATION,
    SECRET,
    client_pages,
    free_port,
    log_in,
    run_wrk,
    start_gunicorn,
    stop_gunicorn,
    workers_rss_mb,
)
from common import ROOT, copy_of_built, database, machine

WORKERS = 2
WRITER = "fallmanagement@demo.invalid"
MAX_CASES_PER_WRITER = 200  # bounded, whatever the duration
SUMMARY = "Sucht eine Teilzeitstelle im Einzelhandel, Kinderbetreuung ist geklärt."


# --- the database -----------------------------------------------------------------------


def prepare(url: str, cases: int, pg_server: str | None):
    """A database built like the page benchmark's: copied from fk_pages_<cases> when that is
    built on the server (seconds instead of minutes), else built here."""
    if pg_server and copy_of_built(pg_server, f"fk_pages_{cases}", url.rsplit("/", 1)[1]):
        print(f"copied fk_pages_{cases}", flush=True)
        return
    print(f"building {cases} cases …", flush=True)
    t0 = time.monotonic()
    code = f"from bench_pages import build; build({url!r}, {cases})"
    subprocess.run([sys.executable, "-c", code], cwd=Path(__file__).parent, check=True)
    print(f"  built in {time.monotonic() - t0:.0f} s", flush=True)


EXPIRED_BACKLOG = 300  # invitations whose consent has expired, left for the jobs to cancel

_EXPIRED = """
    SELECT i.id FROM invitation i JOIN conference c ON c.id = i.conference_id
    WHERE c.status = 'planned' AND i.status <> 'cancelled' AND NOT EXISTS (
        SELECT 1 FROM consent s WHERE s.case_id = c.case_id AND s.agency_id = i.agency_id
        AND s.superseded_at IS NULL AND s.signed_on <= current_date AND s.valid_until >= current_date
        AND (s.withdrawn_on IS NULL OR s.withdrawn_on > current_date))
"""


def give_the_jobs_work(url: str) -> dict:
    """Reminders due now: conferences in the next 48 hours and measures due or overdue, none
    reminded yet; invitations whose consent has expired, at most EXPIRED_BACKLOG of them.

    The generator leaves far more of those than a job that runs every hour ever finds (about
    1.7 per case: 1,701 at 1,000 cases): the rest are marked cancelled here, as the runs before
    would have left them (without their e-mails). Returns what the jobs should find."""
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(
            text(
                f"UPDATE invitation SET status = 'cancelled', cancelled_at = now() "
                f"WHERE id IN ({_EXPIRED} ORDER BY i.id DESC OFFSET :keep)"
            ),
            {"keep": EXPIRED_BACKLOG},
        )
        conn.execute(
            text(
                "UPDATE conference SET reminder_sent_at = NULL WHERE status = 'planned' "
                "AND starts_at > now() AND starts_at <= now() + interval '48 hours'"
            )
        )
        conn.execute(
            text(
                "UPDATE measure SET reminded_on = NULL WHERE status IN ('agreed', 'in_progress') "
                "AND due_on <= current_date + 3"
            )
        )
        counts = {
            "conferences due": conn.execute(
                text(
                    "SELECT count(*) FROM conference WHERE status = 'planned' AND starts_at > now() "
                    "AND starts_at <= now() + interval '48 hours' AND reminder_sent_at IS NULL"
                )
            ).scalar(),
            "measures due or overdue": conn.execute(
                text(
                    "SELECT count(*) FROM measure WHERE status IN ('agreed', 'in_progress') "
                    "AND due_on <= current_date + 3"
                )
            ).scalar(),
            "invitations whose consent expired": conn.execute(text(f"SELECT count(*) FROM ({_EXPIRED}) t")).scalar(),
            "outbox before": conn.execute(text("SELECT max(id) FROM outbox_message")).scalar() or 0,
            "audit before": conn.execute(text("SELECT max(id) FROM audit_entry")).scalar() or 0,
            "cases before": conn.execute(text("SELECT max(id) FROM case_file")).scalar() or 0,
        }
    engine.dispose()
    return counts


# --- the nodes --------------------------------------------------------------------------


class Node:
    def __init__(self, name: str, url: str, root: Path, mark_file: Path):
        self.name = name
        self.url = url
        self.instance = root / f"instance-{name}"
        self.outbox = self.instance / "outbox"
        self.instance.mkdir(parents=True)
        self.env = {
            "MAIL_OUTBOX": str(self.outbox),
            "PSEUDONYM_HIGH_WATER": str(mark_file),
            "MAIL_SEND_AFTER_COMMIT": "true",
        }
        self.port = free_port()
        self.log = root / f"gunicorn-{name}.log"
        self.proc = None

    def start(self):
        spec = f"app:create_app(instance_path={str(self.instance)!r})"
        self.proc = start_gunicorn(self.url, self.port, self.log, env=self.env, spec=spec, workers=WORKERS)

    def flask(self, *args) -> subprocess.Popen:
        """A command of this node's timers (same environment, same instance folder)."""
        env = dict(os.environ, DATABASE_URL=self.url, SECRET_KEY=SECRET, **self.env)
        return subprocess.Popen(
            [str(ROOT / ".venv/bin/flask"), "--app", f"app:create_app(instance_path={str(self.instance)!r})", *args],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )


def run_at_once(nodes, *args) -> list[tuple[int, str]]:
    """The same command on every node, started together (as timers on every host would)."""
    procs = [node.flask(*args) for node in nodes]
    results = []
    for proc in procs:
        out, _ = proc.communicate(timeout=600)
        results.append((proc.returncode, out.strip()))
    return results


# --- a writer per node: cases through the real form ---------------------------------------


def _hidden(html: str, name: str) -> str:
    m = re.search(rf'name="{name}"[^>]*value="([^"]*)"', html) or re.search(rf'value="([^"]*)"[^>]*name="{name}"', html)
    return m.group(1) if m else ""


def _first_option(html: str, name: str) -> str:
    select = re.search(rf'<select[^>]*name="{name}".*?</select>', html, re.S).group(0)
    return re.search(r'<option[^>]*value="([^"]+)"', select).group(1)


def writer(port: int, cookie: str, deadline: float, result: dict):
    """Opens cases on one node until the deadline (at most MAX_CASES_PER_WRITER)."""
    ids, errors = [], []
    while time.monotonic() < deadline and len(ids) < MAX_CASES_PER_WRITER:
        try:
            conn = HTTPConnection("127.0.0.1", port, timeout=30)
            conn.request("GET", "/faelle/neu", headers={"Cookie": cookie})
            r = conn.getresponse()
            html = r.read().decode()
            if r.status != 200:
                errors.append(f"GET {r.status}")
                continue
            form = {
                "csrf_token": _hidden(html, "csrf_token"),
                "district_id": _first_option(html, "district_id"),
                "age_band": _first_option(html, "age_band"),
                "household_type": _first_option(html, "household_type"),
                "summary": SUMMARY,
                "goals": "",
                "internal_reference": "",
            }
            body = urllib.parse.urlencode(form)
            conn.request(
                "POST",
                "/faelle/neu",
                body=body,
                headers={"Cookie": cookie, "Content-Type": "application/x-www-form-urlencoded"},
            )
            r = conn.getresponse()
            r.read()
            location = r.getheader("Location") or ""
            m = re.search(r"/faelle/(\d+)$", location)
            if r.status != 302 or not m:
                errors.append(f"POST {r.status} {location[:60]}")
            else:
                ids.append(int(m.group(1)))
            conn.close()
        except (OSError, AttributeError) as exc:
            errors.append(type(exc).__name__)
    result["ids"], result["errors"] = ids, errors


# --- checks -----------------------------------------------------------------------------


def _message_key(raw: bytes) -> tuple:
    """Recipient, subject and body without Date and Message-ID: what the person receives."""
    msg = email.message_from_bytes(raw, policy=policy.default)
    parts = []
    for part in msg.walk():
        if not part.is_multipart():
            content = part.get_payload(decode=True) or b""
            # Calendar files carry their own time stamp; their UID and SEQUENCE say what they are.
            content = re.sub(rb"DTSTAMP:[0-9TZ]+", b"", content)
            parts.append(hashlib.sha256(content).hexdigest())
    return (msg["To"], msg["Subject"], tuple(parts))


def check(url: str, nodes, before: dict, mark_file: Path, jobs_started: float) -> dict:
    from datetime import UTC, datetime, timedelta

    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    started = datetime.fromtimestamp(jobs_started, UTC)
    with engine.connect() as conn:
        # Due when the jobs started (a conference may have begun since the set-up counted it).
        missed = conn.execute(
            text(
                "SELECT count(*) FROM conference WHERE status = 'planned' AND reminder_sent_at IS NULL "
                "AND starts_at > :start AND starts_at <= :until"
            ),
            {"start": started + timedelta(seconds=60), "until": started + timedelta(hours=47)},
        ).scalar()
        expired_left = conn.execute(text(f"SELECT count(*) FROM ({_EXPIRED}) t")).scalar()
        new = conn.execute(
            text("SELECT id, template, status, message FROM outbox_message WHERE id > :n ORDER BY id"),
            {"n": before["outbox before"]},
        ).all()
        audit = dict(
            conn.execute(
                text(
                    "SELECT action, count(*) FROM audit_entry WHERE id > :n AND action IN "
                    "('conference.reminded', 'measure.reminded', 'invitation.cancelled', 'case.created') "
                    "GROUP BY action"
                ),
                {"n": before["audit before"]},
            ).all()
        )
        twice_reminded = conn.execute(
            text(
                "SELECT count(*) FROM (SELECT object_type, object_id FROM audit_entry WHERE id > :n AND action IN "
                "('conference.reminded', 'measure.reminded', 'invitation.cancelled') "
                "GROUP BY action, object_type, object_id HAVING count(*) > 1) t"
            ),
            {"n": before["audit before"]},
        ).scalar()
        duplicate_pseudonyms = conn.execute(
            text("SELECT count(*) FROM (SELECT pseudonym FROM case_file GROUP BY pseudonym HAVING count(*) > 1) t")
        ).scalar()
        new_cases = (
            conn.execute(text("SELECT pseudonym FROM case_file WHERE id > :n"), {"n": before["cases before"]})
            .scalars()
            .all()
        )
    engine.dispose()

    delivered = {node.name: {p.name for p in node.outbox.glob("*.eml")} for node in nodes}
    names = list(delivered)
    both = delivered[names[0]] & delivered[names[1]]
    keys = Counter(_message_key(bytes(r.message)) for r in new)
    same_content = sum(n - 1 for n in keys.values() if n > 1)
    marks = json.loads(mark_file.read_text()) if mark_file.exists() else {}
    above_mark = [p for p in new_cases if int(p.split("-")[2]) > marks.get(p.split("-")[1], 0)]
    verify = run_at_once(nodes[:1], "audit-verify")[0]
    return {
        "new e-mails": len(new),
        "e-mails by template": dict(Counter(r.template for r in new)),
        "not delivered": sum(1 for r in new if r.status != "sent"),
        "delivered by node": {k: len(v) for k, v in delivered.items()},
        "delivered by both nodes": len(both),
        "same recipient and content twice": same_content,
        "audit": audit,
        "reminded or cancelled twice": twice_reminded,
        "conferences due but not reminded": missed,
        "invitations whose consent expired, not cancelled": expired_left,
        "audit-verify": verify,
        "duplicate pseudonyms": duplicate_pseudonyms,
        "new cases": len(new_cases),
        "above the high-water mark": len(above_mark),
        "high-water mark": marks,
    }


# --- main -------------------------------------------------------------------------------


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--seconds", type=int, default=30)
    parser.add_argument("--pg-server", help="a running PostgreSQL server (URL without database)")
    args = parser.parse_args()
    if not shutil.which("wrk"):
        raise SystemExit("wrk fehlt: sudo apt-get install -y wrk")

    from app import create_app

    with (
        database("postgres", Path("/unused"), args.pg_server, "fk_cluster") as url,
        tempfile.TemporaryDirectory() as tmp,
    ):
        tmp = Path(tmp)
        prepare(url, args.cases, args.pg_server)
        before = give_the_jobs_work(url)
        mark_file = tmp / "shared" / "pseudonym-high-water.json"
        mark_file.parent.mkdir()
        app = create_app({"DATABASE_URL": url, "SECRET_KEY": SECRET, "REQUIRE_TWO_FACTOR": False})
        pages = client_pages(app)
        emails = [ROTATION[n % len(ROTATION)] for n in range(CLIENTS)]
        cookies = log_in(app, emails + [WRITER, WRITER])
        clients = list(zip(cookies[:CLIENTS], [pages[e] for e in emails], strict=True))
        writer_cookies = cookies[CLIENTS:]
        app.extensions["db_engine"].dispose()

        nodes = [Node("a", url, tmp, mark_file), Node("b", url, tmp, mark_file)]
        half = CLIENTS // 2
        # Node A serves clients 1–16, node B clients 9–24: 9–16 use one session on both.
        share = [clients[:half], clients[half // 2 : half // 2 + half]]
        load_before = os.getloadavg()[0]
        for node in nodes:
            node.start()
        results, jobs, writers = {}, {}, {}
        try:
            print(f"two nodes on ports {nodes[0].port}, {nodes[1].port}; {args.seconds} s of load …", flush=True)
            deadline = time.monotonic() + args.seconds

            def load(node, mine):
                results[node.name] = run_wrk(node.port, mine, args.seconds, tmp, f"pages-{node.name}", connections=half)

            threads = [threading.Thread(target=load, args=(n, mine)) for n, mine in zip(nodes, share, strict=True)]
            for node, cookie in zip(nodes, writer_cookies, strict=True):
                writers[node.name] = {}
                threads.append(threading.Thread(target=writer, args=(node.port, cookie, deadline, writers[node.name])))
            for t in threads:
                t.start()
            time.sleep(args.seconds / 2)
            print("send-reminders on both nodes at once …", flush=True)
            jobs_started = time.time()
            jobs["send-reminders"] = run_at_once(nodes, "send-reminders")
            jobs["send-mail"] = run_at_once(nodes, "send-mail")
            for t in threads:
                t.join(timeout=args.seconds + 120)
            rss = {node.name: workers_rss_mb(node.proc.pid) for node in nodes}
        finally:
            for node in nodes:
                if node.proc is not None:
                    stop_gunicorn(node.proc)
        # What the after-commit delivery may have left (a claim lease cut by the stop): the job.
        jobs["send-mail (after)"] = run_at_once(nodes, "send-mail")
        checked = check(url, nodes, before, mark_file, jobs_started)
        server_errors = {
            node.name: [
                ln
                for ln in node.log.read_text().splitlines()
                if "Traceback" in ln or " ERROR " in ln or "[ERROR]" in ln
            ]
            for node in nodes
        }

    print(
        f"\nmachine: {machine()}; PostgreSQL; {args.cases:,} cases; 2 nodes × gunicorn {WORKERS} sync workers; "
        f"wrk -t {half} -c {half} -d {args.seconds}s per node; load average before the run {load_before:.1f}"
    )
    print("\n| node | requests | requests/s | p50 (ms) | p95 (ms) | p99 (ms) | errors | cases opened | writer errors |")
    print("|---|---|---|---|---|---|---|---|---|")
    total = 0
    for node in nodes:
        r = results[node.name]
        total += r["rps"]
        w = writers[node.name]
        print(
            f"| {node.name} | {r['requests']:,} | {r['rps']:.0f} | {r['p50'] / 1000:.1f} | {r['p95'] / 1000:.1f} | "
            f"{r['p99'] / 1000:.1f} | {r['errors']} | {len(w['ids'])} | {len(w['errors'])} |"
        )
    print(f"\nboth nodes: {total:.0f} page requests/s")
    print("worker RSS: " + "; ".join(f"{n}: " + ", ".join(f"{mb:.0f} MB" for mb in v.values()) for n, v in rss.items()))
    due = before["conferences due"], before["measures due or overdue"]
    expired = before["invitations whose consent expired"]
    print(f"\nwork given to the jobs: {due[0]} conferences, {due[1]} measures, {expired} invitations to cancel")
    for name, runs in jobs.items():
        for (code, out), node in zip(runs, nodes, strict=True):
            if code != 0:
                print(f"  {name} on {node.name}: exit {code}:\n    " + "\n    ".join(out.splitlines()[-25:]))
                continue
            print(f"  {name} on {node.name}: exit {code}: {out.splitlines()[-1] if out else ''}")
            if name == "send-reminders":
                print(f"    {out.splitlines()[0] if out else ''}")
    print()
    for key, value in checked.items():
        print(f"  {key}: {value}")
    for name, lines in server_errors.items():
        if lines:
            print(f"  server log {name}: {len(lines)} error lines, e.g. {lines[:3]}")

    errors = sum(results[n.name]["errors"] for n in nodes) + sum(len(writers[n.name]["errors"]) for n in nodes)
    job_failures = sum(code != 0 for runs in jobs.values() for code, _ in runs)
    checks = [
        (
            "0 errors (pages, writers, jobs, server logs)",
            errors == 0 and job_failures == 0 and not any(server_errors.values()),
        ),
        ("0 e-mails delivered by both nodes", checked["delivered by both nodes"] == 0),
        ("0 e-mails with the same recipient and content twice", checked["same recipient and content twice"] == 0),
        ("nothing reminded or cancelled twice", checked["reminded or cancelled twice"] == 0),
        ("every due conference reminded", checked["conferences due but not reminded"] == 0),
        (
            "every invitation whose consent expired cancelled",
            checked["invitations whose consent expired, not cancelled"] == 0,
        ),
        ("every e-mail delivered", checked["not delivered"] == 0),
        ("audit chain verifies", checked["audit-verify"][0] == 0 and "OK" in checked["audit-verify"][1]),
        ("no pseudonym twice", checked["duplicate pseudonyms"] == 0),
        ("every new pseudonym at or below the shared high-water mark", checked["above the high-water mark"] == 0),
        ("cases opened on both nodes", all(writers[n.name]["ids"] for n in nodes)),
    ]
    print("\n| check | |\n|---|---|")
    for label, ok in checks:
        print(f"| {label} | {'met' if ok else 'NOT met'} |")
    print("\nall checks met" if all(ok for _, ok in checks) else "\nsome checks NOT met")


if __name__ == "__main__":
    main()
