"""The application under gunicorn as production runs it (issue 10, finding 8): no ``Server``
header naming the software, HSTS and Secure cookies behind the TLS proxy, no debug output."""

import http.client
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def production_server(tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("production")
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("DEBUG", "DEMO_DATA", "FLASK_DEBUG")}
    env.update(
        APP_ENV="production",
        SECRET_KEY="ein-langer-geheimer-schluessel",
        PROXY_COUNT="1",
        BASE_URL="https://fallkonferenz.example.org",
        DATABASE_URL=f"sqlite:///{tmp_path / 'prod.sqlite'}",
        MAIL_OUTBOX=str(tmp_path / "outbox"),
        FLASK_DEBUG="1",
    )  # must change nothing in production
    log = (tmp_path / "gunicorn.log").open("w")
    proc = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "gunicorn"),
            "-c",
            "gunicorn.conf.py",
            "--workers",
            "1",
            "--bind",
            f"127.0.0.1:{port}",
            "app:create_app()",
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        for _ in range(300):  # waits for the server to listen; asserts nothing about time
            if proc.poll() is not None:
                pytest.fail(f"gunicorn ended at start:\n{(tmp_path / 'gunicorn.log').read_text()}")
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.1)
        yield port
    finally:
        os.killpg(proc.pid, signal.SIGINT)  # quick shutdown
        proc.wait(timeout=30)
        log.close()


def _get(port, path, **headers):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request("GET", path, headers={"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.9", **headers})
        response = conn.getresponse()
        return response, response.read().decode()
    finally:
        conn.close()


def test_production_headers_under_gunicorn(production_server):
    response, body = _get(production_server, "/anmelden")
    assert response.status == 200
    headers = {name.lower(): value for name, value in response.getheaders()}
    assert "server" not in headers, headers.get("server")
    assert "gunicorn" not in repr(response.getheaders()).lower()
    assert "max-age=31536000" in headers["strict-transport-security"]
    cookie = [part.strip().lower() for part in headers["set-cookie"].split(";")]
    assert {"secure", "httponly", "samesite=lax"} <= set(cookie)
    assert "frame-ancestors 'none'" in headers["content-security-policy"]

    response, body = _get(production_server, "/gibt-es-nicht")
    assert response.status == 404 and "Seite nicht gefunden" in body
    assert "Traceback" not in body and "Werkzeug" not in body and "server" not in dict(response.getheaders())


def test_healthz_names_no_server_either(production_server):
    response, _body = _get(production_server, "/healthz")
    assert response.status == 200
    assert "server" not in {name.lower() for name, _value in response.getheaders()}
