"""Errors raised at riskkit's boundaries.

Validation collects every problem before raising, so an analyst fixes an extract in one pass.
Each problem names the table, the column, the loan id (or row) and the rule broken.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

#: What the ids of a table's problems are (default: loan ids).
ID_LABELS = {"applications": "application", "borrowers": "customer", "votes": "member",
             "staff": "staff"}  # fmt: skip


@dataclass(frozen=True)
class Problem:
    """One broken rule in one table."""

    table: str
    column: str
    rule: str
    ids: tuple = ()
    count: int = 0

    def __str__(self) -> str:
        where = f"{self.table}.{self.column}" if self.column else self.table
        if self.ids:
            shown = ", ".join(str(i) for i in self.ids[:5])
            more = f" (+{self.count - 5} more)" if self.count > 5 else ""
            label = ID_LABELS.get(self.table, "loan id")
            return f"{where}: {self.rule} [{self.count} row(s); {label} {shown}{more}]"
        return f"{where}: {self.rule}"


class ValidationError(ValueError):
    """Bad input. ``problems`` lists every broken rule found; nothing was changed or written."""

    def __init__(self, problems: list[Problem], what: str = "input"):
        self.problems = list(problems)
        lines = "\n  - ".join(str(p) for p in self.problems)
        super().__init__(f"{len(self.problems)} problem(s) in {what}:\n  - {lines}")

    def to_frame(self) -> pd.DataFrame:
        """Problems as a table (table, column, rule, count, ids)."""
        return pd.DataFrame(
            [
                {
                    "table": p.table,
                    "column": p.column,
                    "rule": p.rule,
                    "count": p.count,
                    "ids": list(p.ids),
                }
                for p in self.problems
            ]
        )


class ProblemCollector:
    """Accumulates problems and raises one :class:`ValidationError` at the end."""

    def __init__(self, what: str = "input"):
        self.what = what
        self.problems: list[Problem] = []

    def add(self, table: str, column: str, rule: str, ids=None, count: int | None = None):
        ids_t = tuple(pd.unique(pd.Series(ids)).tolist()[:5]) if ids is not None else ()
        n = count if count is not None else (len(ids) if ids is not None else 0)
        self.problems.append(Problem(table, column, rule, ids_t, int(n)))

    def require(self, table: str, df, columns) -> bool:
        """Record every column of ``columns`` that ``df`` lacks; True if none is missing."""
        missing = [c for c in columns if c not in df.columns]
        for c in missing:
            self.add(table, c, "required column is missing")
        return not missing

    def check(self, table: str, column: str, bad_mask, ids, rule: str) -> None:
        """Record ``rule`` for the rows where ``bad_mask`` is true."""
        bad = pd.Series(bad_mask).fillna(True).to_numpy(dtype=bool)
        if bad.any():
            # only the offending rows' ids are converted (a whole id column may be millions)
            bad_ids = pd.Series(ids).iloc[np.flatnonzero(bad)].to_numpy()
            self.add(table, column, rule, ids=bad_ids, count=int(bad.sum()))

    def raise_if_any(self) -> None:
        if self.problems:
            raise ValidationError(self.problems, self.what)

    def __bool__(self) -> bool:
        return bool(self.problems)


def is_blank(s: pd.Series) -> np.ndarray:
    """Rows of ``s`` that are missing or only whitespace (for required text such as an author
    or a reason), as a boolean array for :meth:`ProblemCollector.check`."""
    return (s.isna() | (s.astype(str).str.strip() == "")).to_numpy(dtype=bool)
