"""Small-cell suppression on hand-built tables where the answer is known."""

import itertools

from app.reports.suppression import PRIMARY, SECONDARY, TOTAL, Equation, Table, protect, suppress


def _unrecoverable(values, equations, status):
    """Independent of the implementation: each hidden figure can change (by ±1 along with other
    hidden figures) while every equation still holds, so the shown figures do not fix it."""
    hidden = [k for k in values if status.get(k)]
    for h in hidden:
        found = False
        for signs in itertools.product((-1, 0, 1), repeat=len(hidden)):
            d = dict(zip(hidden, signs, strict=True))
            if d[h] == 0:
                continue
            if all(sum(d.get(c, 0) for c in e.cells) == d.get(e.total, 0) for e in equations):
                found = True
                break
        assert found, f"{h} can be computed from the published figures"


def _grid(key, rows, cols, counts, **kw):
    return Table(key, key, [(r, r) for r in rows], [(c, c) for c in cols], counts, **kw)


def test_two_by_two_hides_the_whole_interior_and_keeps_the_totals():
    #        A   B | total
    # r1     3  10 |  13
    # r2     7   8 |  15
    # total 10  18 |  28
    t = _grid("t", ["r1", "r2"], ["A", "B"], {("r1", "A"): 3, ("r1", "B"): 10, ("r2", "A"): 7, ("r2", "B"): 8})
    protect([t], threshold=5)
    assert t.cell("r1", "A").suppressed == PRIMARY
    assert {(r, c): t.cell(r, c).suppressed for r in ("r1", "r2") for c in ("A", "B")} == {
        ("r1", "A"): PRIMARY,
        ("r1", "B"): SECONDARY,
        ("r2", "A"): SECONDARY,
        ("r2", "B"): SECONDARY,
    }
    # The totals stay: 13, 15, 10, 18 and 28 do not reveal any single cell.
    assert [t.cell(r, TOTAL).shown for r in ("r1", "r2", TOTAL)] == [13, 15, 28]
    assert [t.cell(TOTAL, c).shown for c in ("A", "B")] == [10, 18]
    _unrecoverable(t.figures(), t.equations(), t.status)


def test_a_single_row_hides_the_next_smallest_cell():
    values = {"a": 2, "b": 8, "c": 9, "sum": 19}
    result = suppress(values, [Equation(("a", "b", "c"), "sum")], threshold=5)
    assert result.status == {"a": PRIMARY, "b": SECONDARY, "c": None, "sum": None}


def test_nothing_below_the_threshold_hides_nothing():
    t = _grid("t", ["r1", "r2"], ["A", "B"], {("r1", "A"): 5, ("r1", "B"): 10, ("r2", "A"): 7, ("r2", "B"): 8})
    protect([t], threshold=5)
    assert not any(t.status.values())


def test_zero_is_below_the_threshold_too():
    values = {"a": 0, "b": 12, "sum": 12}
    result = suppress(values, [Equation(("a", "b"), "sum")], threshold=5)
    # 0 is hidden like any count below 5, and 12 = 0 + 12 would show it: b goes as well.
    assert result.status == {"a": PRIMARY, "b": SECONDARY, "sum": None}


def test_a_small_total_is_hidden_and_cannot_be_recomputed_from_its_cells():
    # Row r1: 2 + 1 = 3 (all below 5); the column totals and the grand total must not give it away.
    t = _grid(
        "t",
        ["r1", "r2", "r3"],
        ["A", "B"],
        {("r1", "A"): 2, ("r1", "B"): 1, ("r2", "A"): 20, ("r2", "B"): 30, ("r3", "A"): 11, ("r3", "B"): 14},
    )
    protect([t], threshold=5)
    assert t.cell("r1", TOTAL).suppressed == PRIMARY
    assert t.cell("r1", "A").suppressed == PRIMARY and t.cell("r1", "B").suppressed == PRIMARY
    _unrecoverable(t.figures(), t.equations(), t.status)
    # Column A: 33 = 2 + 20 + 11: at least one more cell of each column is hidden.
    assert t.cell("r2", "A").suppressed or t.cell("r3", "A").suppressed
    assert t.cell("r2", "B").suppressed or t.cell("r3", "B").suppressed


def test_larger_table_no_hidden_cell_can_be_recovered():
    counts = {
        ("r1", "A"): 10, ("r1", "B"): 3, ("r1", "C"): 12,
        ("r2", "A"): 8, ("r2", "B"): 9, ("r2", "C"): 7,
        ("r3", "A"): 6, ("r3", "B"): 11, ("r3", "C"): 1,
    }  # fmt: skip
    t = _grid("t", ["r1", "r2", "r3"], ["A", "B", "C"], counts)
    protect([t], threshold=5)
    hidden = {k for k, v in t.status.items() if v}
    assert {("t", "r1", "B"), ("t", "r3", "C")} <= hidden
    assert all(t.status[("t", r, c)] == SECONDARY for (_t, r, c) in hidden - {("t", "r1", "B"), ("t", "r3", "C")})
    _unrecoverable(t.figures(), t.equations(), t.status)
    # No more than needed: the grand total and at least one row total remain.
    assert t.cell(TOTAL, TOTAL).shown == 67


def test_tables_sharing_row_totals_are_protected_together():
    # Invitations per agency type by answer, and the same invitations by attendance: the same
    # row totals. Table a alone would be safe; table b's small cell needs a second hidden cell,
    # and the hidden total must not be shown by table a either.
    a = _grid("a", ["x", "y"], ["yes", "no"], {("x", "yes"): 10, ("x", "no"): 10, ("y", "yes"): 9, ("y", "no"): 9})
    b = _grid(
        "b",
        ["x", "y"],
        ["here", "away"],
        {("x", "here"): 18, ("x", "away"): 2, ("y", "here"): 12, ("y", "away"): 6},
        shared_row_totals="a",
    )
    protect([a, b], threshold=5)
    assert b.cell("x", "away").suppressed == PRIMARY
    values, equations = {**a.figures(), **b.figures()}, a.equations() + b.equations()
    status = {**a.status, **b.status}
    _unrecoverable(values, equations, status)
    # The shared totals have one status in both tables.
    assert a.cell("x", TOTAL).suppressed == b.cell("x", TOTAL).suppressed


def test_multiple_answer_tables_show_no_column_totals():
    t = _grid(
        "t",
        ["debt", "health"],
        ["done", "open"],
        {("debt", "done"): 3, ("debt", "open"): 9, ("health", "done"): 7, ("health", "open"): 8},
        column_totals=False,
    )
    protect([t], threshold=5)
    assert (("t", TOTAL, "done")) not in t.figures()
    assert t.cell("debt", "done").suppressed == PRIMARY
    assert t.cell("debt", "open").suppressed == SECONDARY
    assert t.cell("health", "done").shown == 7 and t.cell("health", TOTAL).shown == 15
