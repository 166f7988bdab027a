"""Compare two ``pytest --collect-only -q`` listings: what a change to the suite dropped.

    .venv/bin/pytest --collect-only -q -p no:xdist > after.txt   (likewise before.txt on the old commit)
    .venv/bin/python -m tests.compare_collected before.txt after.txt

Prints the counts, the access-matrix cells (route × actor) and the CSRF cells
(route × token variant) lost or gained, and every other test id that disappeared (a
moved or renamed test shows up here; say where it went). Exits 1 if an access-matrix
cell, a "GET changes nothing" cell or a (route, token variant) of the CSRF matrix is lost.
"""

import re
import sys
from collections import Counter

MATRIX = "tests/test_access_matrix.py::test_cell["
CSRF = "tests/test_csrf.py::test_write_without_valid_token_is_refused["
GETS = "tests/test_csrf.py::test_get_changes_nothing["


def ids(path: str) -> list[str]:
    with open(path, encoding="utf-8") as f:
        return [line.strip() for line in f if "::" in line]


def cells(tests, prefix) -> set[str]:
    return {t[len(prefix) : -1] for t in tests if t.startswith(prefix)}


def csrf_route_tokens(tests) -> set[tuple[str, str]]:
    """(route, token variant) of each CSRF cell, whoever sent it."""
    found = set()
    for cell in cells(tests, CSRF):
        m = re.fullmatch(r"(.*) as \w+, token (\w+)", cell)
        found.add((m.group(1), m.group(2)))
    return found


def main(before_path, after_path) -> int:
    before, after = ids(before_path), ids(after_path)
    files = lambda tests: Counter(t.split("::")[0] for t in tests)  # noqa: E731
    print(f"tests collected: {len(before)} before, {len(after)} after")
    for name, b, a in sorted((f, files(before)[f], files(after)[f]) for f in files(before) | files(after)):
        if a != b:
            print(f"  {name}: {b} -> {a}")
    lost = 0
    for label, prefix in (("access matrix (route × actor)", MATRIX), ("GET changes nothing (route × actor)", GETS)):
        b, a = cells(before, prefix), cells(after, prefix)
        print(f"{label}: {len(b)} cells before, {len(a)} after, {len(b - a)} lost, {len(a - b)} new")
        for cell in sorted(b - a):
            print(f"  lost: {cell}")
        lost += len(b - a)
    b, a = csrf_route_tokens(before), csrf_route_tokens(after)
    print(
        f"CSRF (route × token variant): {len(cells(before, CSRF))} cells before covering {len(b)} pairs, "
        f"{len(cells(after, CSRF))} cells after covering {len(a)} pairs, {len(b - a)} pairs lost"
    )
    for pair in sorted(b - a):
        print(f"  lost: {pair}")
    lost += len(b - a)
    others_gone = sorted(t for t in set(before) - set(after) if not t.startswith((MATRIX, CSRF, GETS)))
    where_now = {t.split("::", 1)[1]: t.split("::")[0] for t in after}
    moved = Counter(
        (t.split("::")[0], where_now[t.split("::", 1)[1]]) for t in others_gone if t.split("::", 1)[1] in where_now
    )
    for (old, new), n in sorted(moved.items()):
        print(f"moved: {n} tests from {old} to {new}")
    gone = [t for t in others_gone if t.split("::", 1)[1] not in where_now]
    print(f"other test ids gone (renamed?): {len(gone)}")
    for t in gone:
        print(f"  {t}")
    return 1 if lost else 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:3]))
