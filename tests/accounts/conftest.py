from types import SimpleNamespace

import pytest

from app.accounts import services
from tests.accounts.flows import TotpClock


@pytest.fixture
def totp_clock(monkeypatch):
    """The TOTP check reads this clock instead of the real one (a fixed, known time step)."""
    clock = TotpClock(1_800_000_000)
    monkeypatch.setattr(services, "time", SimpleNamespace(time=clock.time))
    return clock
