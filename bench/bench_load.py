"""Benchmark 2: the application under gunicorn (2 workers) with 32 concurrent logged-in clients.

    .venv/bin/python bench/bench_load.py                  # SQLite, 100,000 cases
    .venv/bin/python bench/bench_load.py --postgres       # on a throwaway PostgreSQL server
    .venv/bin/python bench/bench_load.py --cases 1000 --seconds 10

Needs wrk (Debian: `apt-get install -y wrk`). The database is built like the page benchmark's
(real migrations, demo data, `generate-data`); the SQLite file /tmp/fk-bench/pages-N.sqlite
is shared with bench_pages.py and reused. The server runs as `make run` starts it:
`gunicorn --workers 2 'app:create_app()'` on a free loopback port.

The clients are the demo accounts, staff and partners, several sessions each. Their
sessions are created directly (server-side session record, signed cookie holding its token
and a CSRF secret), as bench_pages.py does: the real log-in form would spend 32 argon2
hashes and the log-in limit on set-up, not on what is measured. Before the run, every
client fetches each of its pages once and must get a 200 (a broken cookie would show as
a redirect to the log-in page).

wrk runs one thread per client (`-t 32 -c 32`), so each connection is one person with its
own cookie, walking its own pages round the clock; any answer other than 200 counts as an
error, as do socket errors and timeouts. Then, on the same server, 32 clients call
/healthz for the same time. Printed: requests/s, p50/p95/p99 latency, errors for both, the
ratio, and each worker's resident memory (VmRSS) after the page run.

Targets (issue 6): 0 errors; page throughput ≥ 15 % of /healthz; worker RSS < 150 MB.
"""

import argparse
import hashlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from http.client import HTTPConnection
from pathlib import Path

from common import CACHE, ROOT, copy_of_built, database, machine

SECRET = "bench-load"
CLIENTS = 32
WORKERS = 2
TARGET_RATIO = 0.15
TARGET_RSS_MB = 150

STAFF = ["fallmanagement@demo.invalid", "teamleitung@demo.invalid", "fallmanagement.sued@demo.invalid"]
PARTNERS = [
    "partner.schuldnerberatung@demo.invalid",
    "partner.bildung@demo.invalid",
    "partner.gesundheit@demo.invalid",
    "partner.stadtteilbuero@demo.invalid",
]
# Who the 32 clients are, in turn: caseworkers and partners open the tool most, the team lead less.
ROTATION = [
    "fallmanagement@demo.invalid",
    "partner.schuldnerberatung@demo.invalid",
    "fallmanagement.sued@demo.invalid",
    "partner.bildung@demo.invalid",
    "teamleitung@demo.invalid",
    "partner.gesundheit@demo.invalid",
    "fallmanagement@demo.invalid",
    "partner.stadtteilbuero@demo.invalid",
]


# --- the database -----------------------------------------------------------------------


def ensure_sqlite(cases: int) -> Path:
    """The page benchmark's file if it is there; else built under a temporary name, then renamed,
    so that neither benchmark ever picks up a half-built file."""
    path = CACHE / f"pages-{cases}.sqlite"
    if path.exists():
        print(f"reusing {path}", flush=True)
        return path
    CACHE.mkdir(parents=True, exist_ok=True)
    part = path.with_suffix(f".building-{os.getpid()}")
    build_in_subprocess(f"sqlite:///{part}", cases)
    os.rename(part, path)  # the subprocess has ended: its WAL is checkpointed and gone
    return path


def build_in_subprocess(url: str, cases: int):
    print(f"building {cases} cases …", flush=True)
    t0 = time.monotonic()
    code = f"from bench_pages import build; build({url!r}, {cases})"
    subprocess.run([sys.executable, "-c", code], cwd=Path(__file__).parent, check=True)
    print(f"  built in {time.monotonic() - t0:.0f} s", flush=True)


# --- the clients ------------------------------------------------------------------------


def client_pages(app) -> dict[str, list[str]]:
    """Each account's pages: the page benchmark's, for its own team or agency."""
    from sqlalchemy import func, select

    from app import db
    from app.accounts.models import User
    from app.cases.models import Case, Consent
    from app.clock import berlin_today
    from app.conferences.models import Conference, Invitation

    today = berlin_today()
    pages = {}
    with app.app_context():
        s = db.get_session()
        users = {u.email: u for u in s.execute(select(User).where(User.email.in_(STAFF + PARTNERS))).scalars()}
        district = s.execute(select(Case.district_id).limit(1)).scalar()

        def visible_conferences(team_id=None, agency_id=None, limit=1):
            """Planned conferences with an agency that accepted and holds a valid consent."""
            q = (
                select(Conference.case_id, Conference.id)
                .join(Case, Case.id == Conference.case_id)
                .join(Invitation, Invitation.conference_id == Conference.id)
                .join(Consent, (Consent.case_id == Case.id) & (Consent.agency_id == Invitation.agency_id))
                .where(
                    Invitation.status == "accepted",
                    Conference.status == "planned",
                    Consent.withdrawn_on.is_(None),
                    Consent.valid_until >= today,
                    Consent.signed_on <= today,
                )
                .order_by(Conference.starts_at)
                .limit(limit)
            )
            if team_id is not None:
                q = q.where(Case.team_id == team_id)
            if agency_id is not None:
                q = q.where(Invitation.agency_id == agency_id)
            return s.execute(q).all()

        for email in STAFF:
            u = users[email]
            team_cases = s.execute(select(func.count()).select_from(Case).where(Case.team_id == u.team_id)).scalar()
            last_page = max(1, min(500, team_cases // app.config["PAGE_SIZE"]))
            case_id, conf_id = visible_conferences(team_id=u.team_id)[0]
            pages[email] = [
                "/",
                "/faelle",
                f"/faelle?status=offen&stadtteil={district}&hemmnis=debt",
                f"/faelle?seite={last_page}",
                f"/faelle/{case_id}",
                f"/konferenzen/{conf_id}",
            ]
            if email == "teamleitung@demo.invalid":
                pages[email] = ["/team"] + pages[email][:3]
        for email in PARTNERS:
            confs = visible_conferences(agency_id=users[email].agency_id, limit=2)
            pages[email] = ["/"] + [f"/konferenzen/{conf_id}" for _case, conf_id in confs]
    return pages


def log_in(app, emails: list[str]) -> list[str]:
    """One server-side session per client, and its signed cookie (the token and a CSRF secret,
    so that pages with forms do not have to set a new cookie on every answer)."""
    from sqlalchemy import select

    from app import db
    from app.accounts import services as accounts
    from app.accounts.models import User

    serializer = app.session_interface.get_signing_serializer(app)
    cookies = []
    with app.app_context():
        s = db.get_session()
        for email in emails:
            user = s.execute(select(User).where(User.email == email)).scalar_one()
            token = accounts.start_session(s, user)
            value = serializer.dumps(
                {"_user_id": token, "_fresh": True, "csrf_token": hashlib.sha1(os.urandom(64)).hexdigest()}
            )
            cookies.append(f"{app.config['SESSION_COOKIE_NAME']}={value}")
        s.commit()
    return cookies


# --- the server -------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_gunicorn(
    url: str, port: int, log: Path, *, env: dict | None = None, spec: str = "app:create_app()", workers: int = WORKERS
) -> subprocess.Popen:
    env = dict(os.environ, DATABASE_URL=url, SECRET_KEY=SECRET, REQUIRE_TWO_FACTOR="false", **(env or {}))
    proc = subprocess.Popen(
        [
            str(ROOT / ".venv/bin/gunicorn"),
            "--workers",
            str(workers),
            "--bind",
            f"127.0.0.1:{port}",
            spec,
        ],
        cwd=ROOT,
        env=env,
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"gunicorn ended at start:\n{log.read_text()}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as r:
                if r.status == 200:
                    return proc
        except OSError:
            time.sleep(0.2)
    proc.terminate()
    raise SystemExit("gunicorn did not answer /healthz within 60 s")


def stop_gunicorn(proc: subprocess.Popen):
    proc.send_signal(signal.SIGTERM)  # the master stops its workers gracefully
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def workers_rss_mb(master: int) -> dict[int, float]:
    """VmRSS of each worker (the master's children), from /proc."""
    children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
    rss = {}
    for pid in map(int, children):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                rss[pid] = int(line.split()[1]) / 1024
    return rss


def check_clients(port: int, clients: list[tuple[str, list[str]]]):
    """Every client's every page answers 200 before the clock starts (also warms both workers)."""
    refreshed = 0
    for cookie, paths in clients:
        for path in paths:
            conn = HTTPConnection("127.0.0.1", port, timeout=30)
            conn.request("GET", path, headers={"Cookie": cookie})
            r = conn.getresponse()
            r.read()
            conn.close()
            if r.status != 200:
                raise SystemExit(f"{path} answered {r.status} (Location: {r.getheader('Location')}) before the run")
            refreshed += r.getheader("Set-Cookie") is not None
    if refreshed:
        print(f"  note: {refreshed} answers set a new cookie (wrk keeps sending the first one)")


# --- the load generator -----------------------------------------------------------------

# One wrk thread per client (-t N -c N): each thread's one connection is one person. Any
# answer but 200 counts as an error (wrk itself only counts 4xx/5xx, and a lost session
# would be a 302 to the log-in page).
LUA = r"""
local clients = CLIENTS_TABLE
threads = {}

function setup(thread)
  table.insert(threads, thread)
  thread:set("id", #threads)
end

function init(args)
  local c = clients[(id - 1) % #clients + 1]
  cookie, paths = c.cookie, c.paths
  i = id % #paths  -- clients start at different pages
  bad, statuses = 0, ""
end

function request()
  i = i % #paths + 1
  local headers = {}
  if cookie ~= "" then headers["Cookie"] = cookie end
  return wrk.format("GET", paths[i], headers)
end

function response(status, headers, body)
  if status ~= 200 then
    bad = bad + 1
    if #statuses < 200 then statuses = statuses .. status .. " " .. paths[i] .. "; " end
  end
end

-- done() gets no list of threads: setup() kept them.
function done(summary, latency, requests)
  local bad_total, seen = 0, ""
  for _, t in ipairs(threads) do
    bad_total = bad_total + t:get("bad")
    seen = seen .. t:get("statuses")
  end
  local e = summary.errors
  io.write(string.format(
    'RESULT {"requests": %d, "duration_us": %d, "not_200": %d, "connect": %d, "read": %d, "write": %d, ' ..
    '"timeout": %d, "p50": %d, "p95": %d, "p99": %d, "max": %d, "examples": "%s"}\n',
    summary.requests, summary.duration, bad_total, e.connect, e.read, e.write, e.timeout,
    latency:percentile(50), latency:percentile(95), latency:percentile(99), latency.max, seen))
end
"""


def lua_table(clients: list[tuple[str, list[str]]]) -> str:
    def s(v):
        return json.dumps(v)  # a JSON string of ASCII is a valid Lua string literal

    rows = [f"{{cookie={s(c)}, paths={{{', '.join(s(p) for p in paths)}}}}}" for c, paths in clients]
    return "{\n" + ",\n".join(rows) + "\n}"


def run_wrk(port: int, clients, seconds: int, tmp: Path, name: str, connections: int = CLIENTS) -> dict:
    script = tmp / f"{name}.lua"
    script.write_text(LUA.replace("CLIENTS_TABLE", lua_table(clients)))
    cmd = [
        "wrk",
        "-t",
        str(connections),
        "-c",
        str(connections),
        "-d",
        f"{seconds}s",
        "--timeout",
        "10s",
        "-s",
        str(script),
        f"http://127.0.0.1:{port}/",
    ]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 60)
    line = next((ln for ln in out.stdout.splitlines() if ln.startswith("RESULT ")), None)
    if line is None:
        raise SystemExit(f"wrk gave no result:\n{out.stdout}\n{out.stderr}")
    r = json.loads(line[len("RESULT ") :])
    r["rps"] = r["requests"] / (r["duration_us"] / 1e6)
    r["errors"] = r["not_200"] + r["connect"] + r["read"] + r["write"] + r["timeout"]
    return r


# --- main -------------------------------------------------------------------------------


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--seconds", type=int, default=30)
    parser.add_argument("--postgres", action="store_true")
    parser.add_argument(
        "--pg-server",
        help="with --postgres: a running PostgreSQL server (python -m tests.pg); runs on a copy of its "
        "fk_pages_<cases> when bench_pages.py built that there",
    )
    args = parser.parse_args()
    if not shutil.which("wrk"):
        raise SystemExit("wrk fehlt: sudo apt-get install -y wrk")
    kind = "postgres" if args.postgres else "sqlite"

    from app import create_app

    path = ensure_sqlite(args.cases) if kind == "sqlite" else None
    with (
        database(kind, path or CACHE / "unused.sqlite", args.pg_server, "fk_load") as url,
        tempfile.TemporaryDirectory() as tmp,
    ):
        tmp = Path(tmp)
        if kind == "postgres" and not (
            args.pg_server and copy_of_built(args.pg_server, f"fk_pages_{args.cases}", "fk_load")
        ):
            build_in_subprocess(url, args.cases)
        app = create_app({"DATABASE_URL": url, "SECRET_KEY": SECRET, "REQUIRE_TWO_FACTOR": False})
        pages = client_pages(app)
        emails = [ROTATION[n % len(ROTATION)] for n in range(CLIENTS)]
        clients = list(zip(log_in(app, emails), [pages[e] for e in emails], strict=False))
        app.extensions["db_engine"].dispose()

        load_before = os.getloadavg()[0]  # other work on the machine skews every figure below
        port, log = free_port(), tmp / "gunicorn.log"
        server = start_gunicorn(url, port, log)
        try:
            check_clients(port, clients)
            print(f"page mix: {args.seconds} s, {CLIENTS} clients …", flush=True)
            mix = run_wrk(port, clients, args.seconds, tmp, "pages")
            rss = workers_rss_mb(server.pid)
            print(f"/healthz: {args.seconds} s, {CLIENTS} clients …", flush=True)
            health = run_wrk(port, [("", ["/healthz"])], args.seconds, tmp, "healthz")
            rss_end = workers_rss_mb(server.pid)
        finally:
            stop_gunicorn(server)
        server_errors = [ln for ln in log.read_text().splitlines() if "Error" in ln or "error" in ln.lower()]

    ratio = mix["rps"] / health["rps"]
    print(
        f"\nmachine: {machine()}; database: {kind}; {args.cases:,} cases; gunicorn {WORKERS} sync workers; "
        f"wrk -t {CLIENTS} -c {CLIENTS} -d {args.seconds}s; load average before the run {load_before:.1f}"
    )
    print("\nclients (sessions × pages each walks in turn):")
    for email in dict.fromkeys(emails):
        print(f"  {emails.count(email)} × {email}: {', '.join(pages[email])}")
    print("\n| run | requests | requests/s | p50 (ms) | p95 (ms) | p99 (ms) | max (ms) | errors |")
    print("|---|---|---|---|---|---|---|---|")
    for name, r in (("page mix", mix), ("/healthz", health)):
        print(
            f"| {name} | {r['requests']:,} | {r['rps']:.0f} | {r['p50'] / 1000:.1f} | {r['p95'] / 1000:.1f} | "
            f"{r['p99'] / 1000:.1f} | {r['max'] / 1000:.0f} | {r['errors']} |"
        )
    for name, r in (("page mix", mix), ("/healthz", health)):
        if r["errors"]:
            print(
                f"  {name} errors: not 200 {r['not_200']}, connect {r['connect']}, read {r['read']}, "
                f"write {r['write']}, timeout {r['timeout']}; e.g. {r['examples'][:300]}"
            )
    print(f"\npage mix / healthz: {ratio:.1%}")
    print(
        "worker RSS after the page run: "
        + ", ".join(f"{mb:.0f} MB" for mb in rss.values())
        + "; after /healthz: "
        + ", ".join(f"{mb:.0f} MB" for mb in rss_end.values())
    )
    if server_errors:
        print(f"server log: {len(server_errors)} error lines, e.g.:\n  " + "\n  ".join(server_errors[:5]))

    checks = [
        ("0 errors", mix["errors"] == 0 and health["errors"] == 0),
        (f"page mix ≥ {TARGET_RATIO:.0%} of /healthz", ratio >= TARGET_RATIO),
        (f"worker RSS < {TARGET_RSS_MB} MB", max(rss.values()) < TARGET_RSS_MB),
    ]
    print("\n| target | |\n|---|---|")
    for label, ok in checks:
        print(f"| {label} | {'met' if ok else 'NOT met'} |")
    print("\nall targets met" if all(ok for _, ok in checks) else "\nsome targets NOT met")


if __name__ == "__main__":
    main()
