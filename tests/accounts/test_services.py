"""One-time codes used by two workers at once: only one of them may get in."""

import threading
import time

import pyotp
import pytest
from sqlalchemy import select

from app import db
from app.accounts import services
from app.accounts.models import RecoveryCode, User

NOW = 1_800_000_000.0


@pytest.mark.committed
def test_a_code_accepted_by_another_worker_is_refused_with_a_stale_copy_of_the_user(app, factory):
    secret = pyotp.random_base32()
    user = factory.user(totp_secret=secret)
    code = pyotp.TOTP(secret).at(NOW)
    with app.app_context():
        first, second = db.new_session(), db.new_session()
        try:
            stale = first.get(User, user.id)  # loaded before the other worker accepts the code
            first.commit()
            fresh = second.get(User, user.id)
            assert services.verify_totp(fresh, code, at=NOW)
            second.commit()

            assert stale.totp_last_step is None
            assert not services.verify_totp(stale, code, at=NOW)
            # A later step is still accepted, and only once.
            later = pyotp.TOTP(secret).at(NOW + 30)
            assert services.verify_totp(stale, later, at=NOW + 30)
            first.commit()
            assert not services.verify_totp(fresh, later, at=NOW + 30)
        finally:
            first.close()
            second.close()


@pytest.mark.committed
def test_the_same_recovery_code_used_twice_at_once_lets_only_one_in(app, factory):
    user = factory.user(totp_secret=pyotp.random_base32())
    with app.app_context():
        s = db.new_session()
        codes = services.new_recovery_codes(s, s.get(User, user.id))
        s.commit()
        s.close()
    code = codes[0]
    results = {}
    first_claimed = threading.Event()

    def worker(name, wait_for=None):
        with app.app_context():
            s = db.new_session()
            try:
                if wait_for is not None:
                    wait_for.wait(5)
                ok = services.use_recovery_code(s, s.get(User, user.id), code)
                s.flush()
                if wait_for is None:
                    first_claimed.set()
                    time.sleep(0.3)  # the other worker tries while this transaction is open
                s.commit()
                results[name] = ok
            finally:
                s.close()

    threads = [
        threading.Thread(target=worker, args=("first",)),
        threading.Thread(target=worker, args=("second", first_claimed)),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert results == {"first": True, "second": False}

    with app.app_context():
        s = db.new_session()
        used = s.execute(select(RecoveryCode.used_at).where(RecoveryCode.code_hash == services.sha256(code))).scalar()
        s.close()
    assert used is not None
