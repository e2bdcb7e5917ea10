"""Vintage curves: cumulative share of each disbursement cohort that has gone bad, by months
on book (MOB).

"Bad" is reaching a bad state (default: the NPL categories and ``written_off``) -- or, with a
delinquency history, 3+ consecutive missed periods. A loan counts from the first month it is
bad, forever (cumulative). Cells a vintage has not reached yet are NaN.

Examples
--------
>>> import pandas as pd
>>> from riskkit.migration.panel import build_panel
>>> df = pd.DataFrame({"loan_id": [1, 1, 1, 2, 2, 2], "as_of": [0, 1, 2, 0, 1, 2],
...     "category": ["normal", "substandard", "normal", "normal", "normal", "doubtful"]})
>>> vintage_curves(build_panel(df)).iloc[0].tolist()
[0.0, 0.5, 1.0]
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .panel import MigrationPanel


def vintage_curves(
    panel: MigrationPanel,
    *,
    bad_states=None,
    disbursement: pd.Series | None = None,
    weight: str = "count",
    bad_flag=None,
) -> pd.DataFrame:
    """Cumulative bad rate by vintage (rows) and months on book (columns).

    Parameters
    ----------
    panel : MigrationPanel
        Monthly (or per-period) panel.
    bad_states : sequence, optional
        States that make a loan bad; default the state space's NPL states plus exits that are
        default states (e.g. ``written_off``).
    disbursement : Series loan_id -> period number or date, optional
        Vintage of each loan; default its first observation.
    weight : {"count", "balance"}
        Share of loans, or of the balance at first observation (disbursed amount).
    bad_flag : array of bool (panel rows), optional
        Use this per-row flag instead of states (e.g. ``missed_periods >= 3``).
    """
    sp = panel.states
    if bad_flag is None:
        names = (
            tuple(bad_states)
            if bad_states is not None
            else tuple(dict.fromkeys(sp.npl + tuple(s for s in sp.default if s in sp.exits)))
        )
        bad = sp.mask(names)[panel.state]
    else:
        bad = np.asarray(bad_flag, dtype=bool)
        if bad.shape != (panel.n_rows,):
            raise ValueError("bad_flag must have one value per panel row")
    t = panel.time.astype(np.int64)
    n = panel.n_loans
    first = np.full(n, np.iinfo(np.int64).max)
    np.minimum.at(first, panel.loan, t)
    if disbursement is not None:
        d = disbursement.reindex(panel.loan_ids)
        if d.isna().any():
            missing = list(panel.loan_ids[d.isna().to_numpy()][:5])
            raise ValueError(f"disbursement: no vintage for loan id(s) {missing}")
        if pd.api.types.is_datetime64_any_dtype(d.dtype):
            ts = pd.DatetimeIndex(d)
            vint = ts.year.to_numpy(np.int64) * 12 + ts.month.to_numpy(np.int64) - 1
        else:
            vint = d.to_numpy(dtype=np.int64)
    else:
        vint = first
    mob = t - vint[panel.loan]
    if (mob < 0).any():
        raise ValueError("an observation precedes its loan's disbursement")
    first_bad = np.full(n, np.iinfo(np.int64).max)
    np.minimum.at(first_bad, panel.loan[bad], mob[bad])
    if weight == "count":
        w = np.ones(n)
    elif weight == "balance":
        if panel.balance is None:
            raise ValueError("weight='balance' needs a balance column")
        first_row = np.flatnonzero(np.r_[True, panel.loan[1:] != panel.loan[:-1]])
        w = panel.balance[first_row]
    else:
        raise ValueError("weight must be 'count' or 'balance'")
    vints, vid = np.unique(vint, return_inverse=True)
    n_mob = int(mob.max()) + 1 if len(mob) else 1
    denom = np.bincount(vid, weights=w, minlength=len(vints))
    went = first_bad < np.iinfo(np.int64).max
    num = np.bincount(
        vid[went] * n_mob + first_bad[went], weights=w[went], minlength=len(vints) * n_mob
    ).reshape(len(vints), n_mob)
    with np.errstate(invalid="ignore", divide="ignore"):
        cum = np.cumsum(num, axis=1) / denom[:, None]
    reached = int(t.max()) - vints
    cum[np.arange(n_mob)[None, :] > reached[:, None]] = np.nan
    idx = pd.Index([panel.time_label(v) for v in vints], name="vintage")
    return pd.DataFrame(cum, index=idx, columns=pd.Index(np.arange(n_mob), name="mob"))
