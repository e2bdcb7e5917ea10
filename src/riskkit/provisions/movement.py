"""Month-on-month movement of the expected-credit-loss allowance by stage (the IFRS 7 /
CAS 37 reconciliation table): opening, transfers between stages, new loans, loans
derecognised (repaid or recovered), write-offs, remeasurement, closing.

Every loan is attributed once: a loan on the balance sheet in both months that changed stage
moves its *opening* ECL from the old stage to the new one (a transfer row sums to zero across
the stages); its change from the opening to the closing ECL is remeasurement in its new
stage. A new loan adds its closing ECL; a loan that left the book takes its opening ECL out,
on the written-off row when the write-off register has it, else as derecognised. So the
opening plus every movement equals the closing allowance, stage by stage, exactly.

Examples
--------
>>> import pandas as pd
>>> prev = pd.DataFrame({"stage": [1, 2], "ecl": [10.0, 50.0]}, index=["A", "B"])
>>> cur = pd.DataFrame({"stage": [2, 3], "ecl": [30.0, 20.0]}, index=["A", "C"])
>>> t = ecl_movement(prev, cur).table
>>> t.loc["transfer_to_stage_2"].tolist(), t.loc["closing"].tolist()
([-10.0, 10.0, 0.0, 0.0], [0.0, 30.0, 20.0, 50.0])
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

ROWS = (
    "opening",
    "transfer_to_stage_1",
    "transfer_to_stage_2",
    "transfer_to_stage_3",
    "new_loans",
    "derecognised",
    "written_off",
    "remeasurement",
    "closing",
)
COLUMNS = ("stage_1", "stage_2", "stage_3", "total")


@dataclass
class ECLMovement:
    """Movement table (``table``: rows :data:`ROWS`, columns stage 1-3 and total) and the
    per-loan attribution (``loans``: previous and current stage and ECL, movement kind)."""

    table: pd.DataFrame
    loans: pd.DataFrame
    previous_as_of: pd.Timestamp | None = None
    as_of: pd.Timestamp | None = None

    def to_frame(self) -> pd.DataFrame:
        return self.table.reset_index()

    def __repr__(self) -> str:
        t = self.table["total"]
        return (
            f"ECLMovement(opening={t['opening']:,.2f}, new={t['new_loans']:,.2f}, "
            f"derecognised={t['derecognised']:,.2f}, written_off={t['written_off']:,.2f}, "
            f"remeasurement={t['remeasurement']:,.2f}, closing={t['closing']:,.2f})"
        )

    def _repr_html_(self) -> str:
        return (
            "<div><b>ECL movement 预期信用损失变动</b>"
            f"{self.table.to_html(float_format=lambda v: f'{v:,.2f}')}</div>"
        ).replace("\n", "")


def _frame(x) -> pd.DataFrame:
    return getattr(x, "loans", x)[["stage", "ecl"]]


def ecl_movement(previous, current, written_off=None) -> ECLMovement:
    """Reconcile the allowance of ``previous`` to ``current`` (ECLResult or per-loan frames
    with ``stage`` and ``ecl``, indexed by loan id). ``written_off``: loan ids written off in
    between (e.g. from the write-off register)."""
    p, c = _frame(previous), _frame(current)
    ids = p.index.union(c.index)
    sp = p["stage"].reindex(ids).to_numpy(dtype=float)
    sc = c["stage"].reindex(ids).to_numpy(dtype=float)
    ep = p["ecl"].reindex(ids).fillna(0.0).to_numpy(dtype=float)
    ec = c["ecl"].reindex(ids).fillna(0.0).to_numpy(dtype=float)
    both, new, gone = ~np.isnan(sp) & ~np.isnan(sc), np.isnan(sp), np.isnan(sc)
    wo = gone & pd.Index(ids).isin(pd.Index(written_off if written_off is not None else []))
    table = pd.DataFrame(0.0, index=pd.Index(ROWS, name="movement"), columns=list(COLUMNS[:3]))

    def add(row, stage, amount, mask):
        s = np.nan_to_num(stage).astype(np.int64)
        sums = np.bincount(s[mask], weights=amount[mask], minlength=4)[1:4]
        table.loc[row] += sums

    add("opening", sp, ep, ~np.isnan(sp))
    moved = both & (sp != sc)
    for k in (1, 2, 3):
        into = moved & (sc == k)
        add(f"transfer_to_stage_{k}", sp, -ep, into)
        add(f"transfer_to_stage_{k}", sc, ep, into)
    add("new_loans", sc, ec, new)
    add("derecognised", sp, -ep, gone & ~wo)
    add("written_off", sp, -ep, wo)
    add("remeasurement", sc, ec - ep, both)
    add("closing", sc, ec, ~np.isnan(sc))
    table["total"] = table.sum(axis=1)
    kind = np.select(
        [new, wo, gone, moved], ["new", "written_off", "derecognised", "transfer"], "same_stage"
    )
    loans = pd.DataFrame(
        {"previous_stage": sp, "stage": sc, "previous_ecl": ep, "ecl": ec, "movement": kind},
        index=ids,
    )
    return ECLMovement(
        table=table,
        loans=loans,
        previous_as_of=getattr(previous, "as_of", None),
        as_of=getattr(current, "as_of", None),
    )
