"""Ids in URLs beyond the database's integer range are simply pages that do not exist."""

import pytest

from tests.conftest import login_as


@pytest.mark.parametrize(
    "path",
    [
        "/faelle/99999999999",
        "/konferenzen/99999999999",
        "/protokolle/99999999999/pdf",
        "/verwaltung/benutzer/99999999999",
    ],
)
def test_huge_ids_are_404(app, client, factory, path):
    login_as(client, app, factory.user("caseworker"))
    assert client.get(path).status_code == 404
