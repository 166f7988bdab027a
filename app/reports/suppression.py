"""Small-cell suppression of published tables (the § 18 network report).

Every figure below the threshold (default 5) is shown as "< 5" (primary suppression). A
figure that sits in a sum with others (a table's row and column totals) could then be worked
out from the figures still shown: 12 = 7 + ? + 5. So more figures are hidden (secondary
suppression, shown as "x") until **no hidden figure can be computed from the shown ones**:

- every table is a set of figures and of equations between them (cells of a row add up to the
  row total, of a column to the column total; totals to the grand total);
- tables that share a figure (e.g. two tables with the same row totals) use the same key for
  it, so they are protected together;
- a hidden figure is exactly known from the shown ones if and only if its unit vector lies in
  the row space of the equations restricted to the hidden figures: checked exactly, with
  fractions, after each step;
- while one is, another figure of one of its equations is hidden: a cell rather than a total,
  the smallest first (the least information lost).

This guarantees that no suppressed figure can be recovered exactly by adding and subtracting
the published ones. It makes no claim about narrower bounds (a hidden cell is known to lie
between 0 and the row total anyway); the threshold says what is published: "fewer than 5".
"""

from collections.abc import Hashable, Iterable
from dataclasses import dataclass, field
from fractions import Fraction

from flask_babel import lazy_gettext as _l

PRIMARY = "primary"
SECONDARY = "secondary"

Key = Hashable


@dataclass
class Equation:
    """``sum(values[c] for c in cells) == values[total]``."""

    cells: tuple
    total: Key

    @property
    def keys(self) -> tuple:
        return (*self.cells, self.total)


@dataclass
class Suppressed:
    """The outcome: per key, ``None`` (shown), ``PRIMARY`` (below the threshold) or ``SECONDARY``."""

    status: dict = field(default_factory=dict)

    def hidden(self, key) -> bool:
        return self.status.get(key) is not None

    def kind(self, key):
        return self.status.get(key)


def suppress(values: dict, equations: Iterable[Equation], threshold: int, totals: Iterable[Key] = ()) -> Suppressed:
    """Which figures of ``values`` to hide. ``totals``: keys of sums, hidden only when no cell will do."""
    equations = [e for e in equations if e.cells]
    totals = set(totals) | {e.total for e in equations}
    status: dict = {key: (PRIMARY if value < threshold else None) for key, value in values.items()}
    if threshold <= 0:
        return Suppressed(status)

    def hide_beside(key) -> None:
        candidates = [
            k for e in equations if key in e.keys for k in e.keys if status.get(k) is None and k in values and k != key
        ]
        if not candidates:
            # Nothing left to hide beside it: cannot happen while an equation exposes it.
            raise RuntimeError("suppression found no further figure to hide")
        # A cell before a total, the smallest first, then a stable order.
        status[min(candidates, key=lambda k: (k in totals, values[k], repr(k)))] = SECONDARY

    while True:
        # The common case first, cheaply: an equation with a single hidden figure gives it away.
        single = _single_hidden(equations, status)
        if single is not None:
            hide_beside(single)
            continue
        # Then the exact test over all equations together (modulo a large prime: fast), confirmed
        # with exact fractions before the answer is given.
        exposed = _exposed(values, equations, status, _determined_mod_p) or _exposed(
            values, equations, status, _determined
        )
        if not exposed:
            return Suppressed(status)
        hide_beside(exposed[0])


def _single_hidden(equations: list[Equation], status: dict):
    for e in equations:
        hidden = [k for k in e.keys if status.get(k) is not None]
        if len(hidden) == 1:
            return hidden[0]
    return None


def _exposed(values: dict, equations: list[Equation], status: dict, determined) -> list:
    """Hidden keys whose value follows exactly from the shown ones, in a stable order."""
    hidden = [k for k in values if status.get(k) is not None]
    if not hidden:
        return []
    exposed = []
    # Equations connected through hidden keys are solved together, the rest apart.
    for group in _components(equations, set(hidden)):
        unknowns = sorted({k for e in group for k in e.keys if status.get(k) is not None}, key=repr)
        index = {k: i for i, k in enumerate(unknowns)}
        rows = []
        for e in group:
            row = [0] * len(unknowns)
            for k in e.cells:
                if k in index:
                    row[index[k]] += 1
            if e.total in index:
                row[index[e.total]] -= 1
            if any(row):
                rows.append(row)
        for i in determined(rows, len(unknowns)):
            exposed.append(unknowns[i])
    return sorted(exposed, key=lambda k: (-values[k], repr(k)))


def _components(equations: list[Equation], hidden: set) -> list[list[Equation]]:
    parent = list(range(len(equations)))

    def find(i):
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    owner: dict = {}
    for i, e in enumerate(equations):
        for k in e.keys:
            if k in hidden:
                if k in owner:
                    parent[find(i)] = find(owner[k])
                else:
                    owner[k] = i
    groups: dict = {}
    for i, e in enumerate(equations):
        if any(k in hidden for k in e.keys):
            groups.setdefault(find(i), []).append(e)
    return list(groups.values())


def _determined(rows: list[list], n: int) -> list[int]:
    """Indexes i whose unit vector lies in the row space of ``rows`` (reduced row echelon form:
    i is a pivot column and its row has no other non-zero entry). Exact, with fractions."""
    return _rref_singletons([[Fraction(x) for x in r] for r in rows], n, lambda a, b: a / b, lambda x: x)


_P = (1 << 61) - 1  # a Mersenne prime


def _determined_mod_p(rows: list[list], n: int) -> list[int]:
    """The same over the integers modulo a 61-bit prime: fast, and the same answer for these
    equations (their coefficients are 0 and ±1); ``suppress`` confirms with fractions."""
    return _rref_singletons(
        [[x % _P for x in r] for r in rows], n, lambda a, b: a * pow(b, _P - 2, _P) % _P, lambda x: x % _P
    )


def _rref_singletons(m: list[list], n: int, div, norm) -> list[int]:
    pivots = []
    r = 0
    for c in range(n):
        pivot = next((i for i in range(r, len(m)) if m[i][c] != 0), None)
        if pivot is None:
            continue
        m[r], m[pivot] = m[pivot], m[r]
        lead = m[r][c]
        m[r] = [div(x, lead) if x else x for x in m[r]]
        for i in range(len(m)):
            if i != r and m[i][c] != 0:
                factor = m[i][c]
                m[i] = [norm(a - factor * b) if b else a for a, b in zip(m[i], m[r], strict=True)]
        pivots.append((r, c))
        r += 1
        if r == len(m):
            break
    return [c for row, c in pivots if all(m[row][j] == 0 for j in range(n) if j != c)]


# --- tables --------------------------------------------------------------------------------


@dataclass
class Table:
    """A published table: rows × columns of counts, with row totals, column totals or both.

    ``key`` names the figures (``(key, row, col)``; totals use ``TOTAL`` as row or column).
    ``shared_row_totals``: another table's key whose row totals are the same figures (so the
    two are protected together); ``links`` does the same for single figures.
    ``column_totals=False`` for tables where a case counts in several rows (multiple answers):
    a column's sum would count it twice, so none is shown.
    """

    key: str
    title: str
    rows: list  # [(code, label)]
    columns: list  # [(code, label)]
    counts: dict  # {(row, col): int}
    row_totals: bool = True
    column_totals: bool = True
    shared_row_totals: str | None = None
    # Figures that are the same as another table's: {(row, col): that figure's key}.
    links: dict = field(default_factory=dict)
    status: dict = field(default_factory=dict)

    def figure_key(self, row, col):
        if (row, col) in self.links:
            return self.links[(row, col)]
        if col == TOTAL and self.shared_row_totals:
            return (self.shared_row_totals, row, TOTAL)
        return (self.key, row, col)

    def value(self, row, col) -> int:
        if row == TOTAL and col == TOTAL:
            return sum(self.counts.get((r, c), 0) for r, _ in self.rows for c, _ in self.columns)
        if row == TOTAL:
            return sum(self.counts.get((r, col), 0) for r, _ in self.rows)
        if col == TOTAL:
            return sum(self.counts.get((row, c), 0) for c, _ in self.columns)
        return self.counts.get((row, col), 0)

    def figures(self) -> dict:
        rows = [r for r, _ in self.rows] + ([TOTAL] if self.column_totals else [])
        cols = [c for c, _ in self.columns] + ([TOTAL] if self.row_totals else [])
        return {self.figure_key(r, c): self.value(r, c) for r in rows for c in cols}

    def equations(self) -> list[Equation]:
        rows, cols = [r for r, _ in self.rows], [c for c, _ in self.columns]
        out = []
        if self.row_totals:
            for r in [*rows, *([TOTAL] if self.column_totals else [])]:
                out.append(Equation(tuple(self.figure_key(r, c) for c in cols), self.figure_key(r, TOTAL)))
        if self.column_totals:
            for c in [*cols, *([TOTAL] if self.row_totals else [])]:
                out.append(Equation(tuple(self.figure_key(r, c) for r in rows), self.figure_key(TOTAL, c)))
        return out

    def cell(self, row, col) -> "Cell":
        key = self.figure_key(row, col)
        return Cell(self.value(row, col), self.status.get(key))

    @property
    def shown_rows(self) -> list:
        return self.rows + ([(TOTAL, TOTAL_LABEL)] if self.column_totals else [])

    @property
    def shown_columns(self) -> list:
        return self.columns + ([(TOTAL, TOTAL_LABEL)] if self.row_totals else [])


TOTAL = "total"
TOTAL_LABEL = _l("Insgesamt")


@dataclass(frozen=True)
class Cell:
    value: int
    suppressed: str | None  # None, PRIMARY, SECONDARY

    @property
    def shown(self) -> int | None:
        """The number as published, or None when it is hidden (charts leave it out)."""
        return None if self.suppressed else self.value


def protect(tables: list[Table], threshold: int) -> None:
    """Suppress the figures of ``tables`` together and store each figure's status in its table."""
    values: dict = {}
    equations: list[Equation] = []
    totals: set[Key] = set()
    for t in tables:
        values.update(t.figures())
        equations.extend(t.equations())
        totals.update(e.total for e in t.equations())
    result = suppress(values, equations, threshold, totals)
    for t in tables:
        t.status = {k: result.kind(k) for k in t.figures()}
