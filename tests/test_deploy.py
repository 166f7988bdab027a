"""deploy/: the systemd units and the nginx example fit the application (issue 11, finding 7)."""

import configparser
import re
import shlex
from pathlib import Path

import pytest

DEPLOY = Path(__file__).resolve().parent.parent / "deploy"


def _unit(name):
    parser = configparser.ConfigParser(strict=True, interpolation=None)
    parser.optionxform = str
    parser.read_string((DEPLOY / name).read_text().replace("\\\n", " "))
    return parser


def test_gunicorn_unit_restarts_on_failure_reloads_gracefully_and_kills_orphans():
    unit = _unit("fallkonferenz.service")["Service"]
    assert unit["Type"] == "notify"
    assert unit["Restart"] == "on-failure"
    assert unit["KillMode"] == "mixed"  # never "process": orphaned workers must go with the master
    assert unit["ExecReload"] == "/bin/kill -s HUP $MAINPID"
    argv = shlex.split(unit["ExecStart"])
    assert argv[0].endswith("/gunicorn") and argv[-1] == "app:create_app()"
    timeout = int(argv[argv.index("--timeout") + 1])
    from app.config import Defaults

    assert timeout > Defaults.PDF_TIME_LIMIT
    bind = argv[argv.index("--bind") + 1]
    assert f"proxy_pass http://{bind};" in (DEPLOY / "nginx-fallkonferenz.conf").read_text()


@pytest.mark.parametrize(
    "service", ["fallkonferenz-mail", "fallkonferenz-reminders", "fallkonferenz-backup", "fallkonferenz-retention"]
)
def test_each_timer_starts_a_oneshot_service_that_runs_an_existing_command(app, service):
    assert "Timer" in _unit(f"{service}.timer")
    unit = _unit(f"{service}.service")["Service"]
    assert unit["Type"] == "oneshot"
    command = re.search(r"--app app:create_app ([a-z-]+)", unit["ExecStart"]).group(1)
    assert command in app.cli.commands


def test_units_share_the_environment_and_the_writable_instance_folder():
    for path in DEPLOY.glob("*.service"):
        unit = _unit(path.name)["Service"]
        assert unit["EnvironmentFile"] == "/etc/fallkonferenz/env"
        assert "/srv/fallkonferenz/instance" in unit["ReadWritePaths"]
    env = dict(
        line.split("=", 1)
        for line in (DEPLOY / "env.example").read_text().splitlines()
        if line and not line.startswith("#")
    )
    assert env["APP_ENV"] == "production" and env["PROXY_COUNT"] == "1"
