"""Score -> PD calibration, recalibration to a long-run default rate, and the master scale.

* :class:`PDCalibrator`: maps a score (or log-odds) to PD by a one-variable logistic
  regression (``method="logistic"``) or isotonic regression (``method="isotonic"``), then
  optionally shifts the log-odds by one constant so that the mean PD over the calibration
  sample equals ``target_rate`` (the long-run central tendency): the *intercept shift*.
* :func:`shift_to_target`: the intercept shift for any PD vector.
* :class:`MasterScale`: rating grades with geometric PD bands (policy
  ``scorecard.master_scale``), ``assign(pd)`` -> grade.

Examples
--------
>>> import numpy as np
>>> pd_ = np.array([0.01, 0.02, 0.05, 0.2])
>>> shifted, delta = shift_to_target(pd_, 0.05)
>>> round(float(shifted.mean()), 10)
0.05
>>> ms = MasterScale(n_grades=5, pd_min=0.01, pd_max=0.5)
>>> ms.assign([0.001, 0.03, 0.9]).tolist()
['R1', 'R2', 'R5']
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.optimize import brentq
from scipy.special import expit, logit
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted

from riskkit.policy import load_policy

EPS = 1e-6  # PDs are clipped to [EPS, 1 - EPS] before taking log-odds


def logodds_shift(log_odds, target_rate: float) -> float:
    """The constant ``delta`` with ``mean(expit(log_odds + delta)) == target_rate``.

    The mean is increasing in ``delta``, so the root is unique (Brent's method to 1e-14).
    """
    if not 0 < target_rate < 1:
        raise ValueError(f"target_rate must be in (0, 1), got {target_rate}")
    lo = np.asarray(log_odds, dtype=float)
    return float(brentq(lambda d: expit(lo + d).mean() - target_rate, -50, 50, xtol=1e-14))


def shift_to_target(pd_, target_rate: float):
    """Shift all log-odds by one constant ``delta`` so that ``mean(PD) == target_rate``.

    Returns ``(shifted_pd, delta)`` (see :func:`logodds_shift`).
    """
    lo = logit(np.clip(np.asarray(pd_, dtype=float), EPS, 1 - EPS))
    delta = logodds_shift(lo, target_rate)
    return expit(lo + delta), delta


class PDCalibrator(BaseEstimator):
    """Calibrate PD on a score.

    Parameters
    ----------
    method : {"logistic", "isotonic"}
    target_rate : float, optional
        Long-run default rate to recalibrate to (intercept shift on the fit sample).
    higher_is_bad : bool
        False for credit scores (higher = better), True for log-odds or PDs.
    """

    def __init__(self, *, method="logistic", target_rate=None, higher_is_bad=False):
        self.method = method
        self.target_rate = target_rate
        self.higher_is_bad = higher_is_bad

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        # one score per row, like sklearn's IsotonicRegression (a column vector is accepted)
        tags.input_tags.one_d_array = True
        tags.input_tags.two_d_array = False
        tags.target_tags.required = True
        return tags

    def fit(self, score, y):
        """Fit the score -> PD map on ``score`` (1-D, or one column) and the 0/1 target ``y``."""
        s = _one_score(score)
        yv = np.asarray(y, dtype=float)
        if np.isnan(s).any():
            raise ValueError("score contains NaN")
        if not np.isin(yv, (0.0, 1.0)).all() or yv.min() == yv.max():
            raise ValueError("y must be binary 0/1 with both classes")
        if self.method == "logistic":
            from .selection import logit_fit

            res = logit_fit(yv, s[:, None])
            self.a_, self.b_ = (float(v) for v in np.asarray(res.params))
        elif self.method == "isotonic":
            from sklearn.isotonic import IsotonicRegression

            self.iso_ = IsotonicRegression(
                increasing=self.higher_is_bad, out_of_bounds="clip", y_min=EPS, y_max=1 - EPS
            ).fit(s, yv)
        else:
            raise ValueError(f"method must be logistic/isotonic, got {self.method!r}")
        self.shift_ = 0.0
        if self.target_rate is not None:
            _, self.shift_ = shift_to_target(self._raw(s), self.target_rate)
        return self

    def _raw(self, s):
        if self.method == "logistic":
            return expit(self.a_ + self.b_ * s)
        return self.iso_.predict(s)

    def predict(self, score) -> np.ndarray:
        """PD for each score."""
        check_is_fitted(self, "shift_")
        s = _one_score(score)
        p = np.clip(self._raw(s), EPS, 1 - EPS)
        return expit(logit(p) + self.shift_) if self.shift_ else p

    transform = predict

    def __repr__(self, N_CHAR_MAX=700):
        base = super().__repr__(N_CHAR_MAX)
        if hasattr(self, "shift_"):
            return f"{base} [log-odds shift {self.shift_:+.4f}]"
        return base


def _one_score(score) -> np.ndarray:
    """A score per row as a 1-D float array (a one-column 2-D input is flattened)."""
    s = np.asarray(score, dtype=float)
    if s.ndim == 2 and s.shape[1] == 1:
        s = s[:, 0]
    if s.ndim != 1:
        raise ValueError(f"score must be 1-D (one score per row), got shape {s.shape}")
    return s


class MasterScale:
    """Rating grades with geometric PD bands.

    Grade ``k`` (``R1`` best) covers ``[bound_k, bound_k+1)`` where the inner bounds are
    ``geomspace(pd_min, pd_max, n_grades - 1)``; the first grade starts at 0, the last ends at 1.
    The central PD of a grade is the geometric mean of its bounds (for the open ends, one ratio
    step beyond).

    Parameters default to policy ``scorecard.master_scale``.
    """

    def __init__(self, n_grades=None, pd_min=None, pd_max=None, labels=None, policy=None):
        ms = load_policy(policy)["scorecard"]["master_scale"]
        self.n_grades = int(ms["n_grades"] if n_grades is None else n_grades)
        self.pd_min = float(ms["pd_min"] if pd_min is None else pd_min)
        self.pd_max = float(ms["pd_max"] if pd_max is None else pd_max)
        if self.n_grades < 2 or not 0 < self.pd_min < self.pd_max < 1:
            raise ValueError("need n_grades >= 2 and 0 < pd_min < pd_max < 1")
        self.labels = list(labels) if labels else [f"R{k}" for k in range(1, self.n_grades + 1)]
        if len(self.labels) != self.n_grades:
            raise ValueError(f"{len(self.labels)} labels for {self.n_grades} grades")
        self.inner_ = np.geomspace(self.pd_min, self.pd_max, self.n_grades - 1)

    def assign(self, pd_) -> np.ndarray:
        """Grade label for each PD (NaN is an error)."""
        p = np.asarray(pd_, dtype=float)
        if np.isnan(p).any():
            raise ValueError("PD contains NaN; cannot assign a grade")
        return np.asarray(self.labels, dtype=object)[np.searchsorted(self.inner_, p, "right")]

    def table(self, scorecard=None) -> pd.DataFrame:
        """Grades with PD bands (and score bands when a fitted scorecard is given)."""
        lower = np.r_[0.0, self.inner_]
        upper = np.r_[self.inner_, 1.0]
        step = self.inner_[1] / self.inner_[0] if len(self.inner_) > 1 else 10.0
        ext = np.r_[self.inner_[0] / step, self.inner_, min(self.inner_[-1] * step, 1.0)]
        central = np.sqrt(ext[:-1] * ext[1:])
        t = pd.DataFrame(
            {"grade": self.labels, "pd_lower": lower, "pd_upper": upper, "pd_central": central}
        )
        if scorecard is not None:
            with np.errstate(divide="ignore"):
                t["score_upper"] = scorecard.score_from_pd(np.maximum(lower, 1e-300))
                t["score_lower"] = scorecard.score_from_pd(np.minimum(upper, 1 - 1e-16))
        return t

    def __repr__(self) -> str:
        return (
            f"MasterScale({self.n_grades} grades, geometric PD bands "
            f"{self.pd_min:g}..{self.pd_max:g})"
        )

    def _repr_html_(self) -> str:
        return f"<b>{self!r}</b>" + self.table().to_html(index=False, float_format="{:.5f}".format)
