"""The score cut-off strategy: approval rate, bad rates, volume and expected loss per cut-off."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..errors import ProblemCollector
from .terms import as_array


def cutoff_strategy(score, pd_, ead, lgd, bad=None, cutoffs=None) -> pd.DataFrame:
    """Approval rate, bad rates, expected loss and volume for each score cut-off.

    An application is approved when ``score >= cutoff``.

    Parameters
    ----------
    score, pd_, ead, lgd : array-like, one value per application
        Credit score, PD over the outcome window, exposure (amount) and LGD.
    bad : array-like of 0/1, optional
        Observed outcome; adds ``observed_bad_rate``.
    cutoffs : array-like, optional
        Default: every distinct score.

    Returns
    -------
    DataFrame indexed by ``cutoff``
        ``approved`` (count), ``approval_rate``, ``volume`` (sum of EAD approved),
        ``expected_bad_rate`` (mean PD of the approved), ``observed_bad_rate``,
        ``expected_loss`` (sum of PD x LGD x EAD approved) and ``loss_rate`` (EL / volume).

    Examples
    --------
    >>> t = cutoff_strategy([500, 550, 600, 650], [0.3, 0.2, 0.1, 0.05],
    ...                     [10_000, 20_000, 30_000, 40_000], 0.5, bad=[1, 0, 1, 0],
    ...                     cutoffs=[550])
    >>> t.loc[550, ["approved", "approval_rate", "volume", "expected_loss"]].tolist()
    [3.0, 0.75, 90000.0, 4500.0]
    """
    s = as_array(score)
    n = s.size
    p = np.broadcast_to(as_array(pd_), (n,))
    e = np.broadcast_to(as_array(ead), (n,))
    g = np.broadcast_to(as_array(lgd), (n,))
    ids = np.arange(n)
    errors = ProblemCollector("cut-off input")
    errors.check("sample", "score", ~np.isfinite(s), ids, "must be a finite number")
    errors.check("sample", "pd", ~((p >= 0) & (p <= 1)), ids, "must be a probability in [0, 1]")
    errors.check("sample", "ead", ~(e >= 0), ids, "must be >= 0")
    errors.check("sample", "lgd", ~((g >= 0) & (g <= 1)), ids, "must be in [0, 1]")
    if bad is not None:
        b = as_array(bad)
        errors.check("sample", "bad", ~np.isin(b, [0, 1]), ids, "must be 0 or 1")
    errors.raise_if_any()
    order = np.argsort(-s, kind="stable")
    s_desc = s[order]
    c = np.unique(s) if cutoffs is None else as_array(cutoffs)
    # approved count for cut-off c: scores >= c, i.e. position in the descending order
    k = np.searchsorted(-s_desc, -c, side="right")

    def cum(v):
        return np.concatenate([[0.0], np.cumsum(v[order])])[k]

    approved = k.astype(float)
    volume = cum(e)
    el = cum(p * g * e)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = pd.DataFrame(
            {
                "approved": approved,
                "approval_rate": approved / n if n else np.nan,
                "volume": volume,
                "expected_bad_rate": np.where(k > 0, cum(p) / approved, np.nan),
                "expected_loss": el,
                "loss_rate": np.where(volume > 0, el / volume, np.nan),
            },
            index=pd.Index(c, name="cutoff"),
        )
        if bad is not None:
            out["observed_bad_rate"] = np.where(k > 0, cum(as_array(bad)) / approved, np.nan)
    return out
