"""File-system faults for the operations tests: a database file that cannot be written.

As root, file modes do not stop writes, so the file is made immutable (``chattr +i``);
otherwise its mode is set read-only. Both are undone by ``writable_again``.
"""

import os
import shutil
import stat
import subprocess
from contextlib import contextmanager

import pytest


def _as_root() -> bool:
    return os.geteuid() == 0


def make_read_only(path) -> None:
    if _as_root():
        if shutil.which("chattr") is None:
            pytest.skip("chattr fehlt: als root lässt sich keine Datei schreibschützen")
        result = subprocess.run(["chattr", "+i", str(path)], capture_output=True)
        if result.returncode != 0:
            pytest.skip("Dateisystem kennt kein chattr +i")
    else:
        os.chmod(path, stat.S_IRUSR | stat.S_IRGRP)


def writable_again(path) -> None:
    if _as_root():
        subprocess.run(["chattr", "-i", str(path)], check=True)
    else:
        os.chmod(path, stat.S_IRUSR | stat.S_IWUSR)


@contextmanager
def read_only(path):
    make_read_only(path)
    try:
        yield
    finally:
        writable_again(path)
