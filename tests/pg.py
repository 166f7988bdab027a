"""A throwaway PostgreSQL cluster for the test run: temp folder, loopback port, no trace left.

initdb refuses to run as root, so as root the cluster runs as the ``postgres`` user.
One cluster serves a whole test run; each pytest-xdist worker makes its own database on
it (``create_database``).
"""

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time


def _bindir() -> str:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if not found:
        raise RuntimeError("PostgreSQL-Server fehlt: sudo apt-get install -y postgresql")
    return os.path.dirname(found[-1])


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ThrowawayPostgres:
    def __init__(self):
        self.bindir = _bindir()
        self.root = tempfile.mkdtemp(prefix="fk-pg-")
        self.data = os.path.join(self.root, "data")
        self.port = _free_port()
        self.as_root = os.geteuid() == 0
        if self.as_root:
            shutil.chown(self.root, "postgres", "postgres")
            os.chmod(self.root, 0o700)
        self.user = "postgres" if self.as_root else os.environ.get("USER", "postgres")

    def _run(self, *args, **kw):
        cmd = list(args)
        if self.as_root:
            cmd = ["runuser", "-u", "postgres", "--"] + cmd
        return subprocess.run(cmd, check=True, capture_output=True, text=True, **kw)

    def start(self) -> str:
        self._run(
            f"{self.bindir}/initdb",
            "-D",
            self.data,
            "-U",
            self.user,
            "-A",
            "trust",
            "-E",
            "UTF8",
            "--locale=C.UTF-8",
            "--no-sync",
        )
        opts = (
            f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.root} "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=100"
        )
        self._run(
            f"{self.bindir}/pg_ctl", "-D", self.data, "-o", opts, "-l", os.path.join(self.root, "log"), "-w", "start"
        )
        for _ in range(50):
            try:
                self._run(
                    f"{self.bindir}/createdb",
                    "-h",
                    "127.0.0.1",
                    "-p",
                    str(self.port),
                    "-U",
                    self.user,
                    "fallkonferenz_test",
                )
                break
            except subprocess.CalledProcessError:
                time.sleep(0.2)
        return f"{self.server_url}/fallkonferenz_test"

    @property
    def server_url(self) -> str:
        """The cluster's URL without a database name."""
        return f"postgresql+psycopg://{self.user}@127.0.0.1:{self.port}"

    def stop(self):
        try:
            self._run(f"{self.bindir}/pg_ctl", "-D", self.data, "-m", "immediate", "stop")
        finally:
            shutil.rmtree(self.root, ignore_errors=True)


def create_database(server_url: str, name: str) -> str:
    """A new, empty database on the cluster at ``server_url``; returns its URL."""
    from sqlalchemy import create_engine, text

    engine = create_engine(f"{server_url}/postgres", isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        engine.dispose()
    return f"{server_url}/{name}"


if __name__ == "__main__":
    # Handy for benchmarks: start a cluster, print its URL, keep it up until Enter/EOF.
    pg = ThrowawayPostgres()
    print(pg.start(), flush=True)
    try:
        input()
    except EOFError:
        pass
    finally:
        pg.stop()
