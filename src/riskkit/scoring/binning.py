"""Optimal binning of one feature: exact dynamic programming over quantile pre-bins.

Objective
---------
Maximise the information value ``IV = sum_b (g_b - b_b) * ln(g_b / b_b)`` of the regular bins
(``g_b``/``b_b`` = the bin's share of all non-events/events, over *all* rows so that the
missing and special bins count in the totals), over every partition of the pre-bins into
contiguous bins that satisfies:

* the event-rate trend (``ascending``, ``descending``, ``peak`` = up then down, ``valley`` =
  down then up, ``none``; ``auto`` = the better of ascending/descending, switched to peak or
  valley only when that raises IV by at least ``auto_shape_gain`` (relative));
* each bin holds at least ``min_bin_share`` of all rows, ``min_bin_n_event`` events and
  ``min_bin_n_nonevent`` non-events;
* at most ``max_n_bins`` bins.

IV is additive over bins, so a DP whose state is the last bin ``[i, j)`` (plus the number of bins
and, for peak/valley, the phase) is exact: it finds the global optimum over all partitions of the
pre-bins (checked against brute force in the tests).

Conventions
-----------
* Event = bad = ``y == 1``. ``WoE = ln(share of non-events / share of events)`` (high WoE = low
  risk), the Siddiqi convention.
* Zero counts: when a bin has no events or no non-events, 0.5 is added to both its counts
  (Haldane-Anscombe) before WoE and IV; totals are unchanged.
* Numeric bins are left-closed ``[a, b)``; the first bin starts at -inf and the last ends at +inf.
* Missing values (NaN/None) and each declared special value (e.g. -999) get their own bin with
  their own WoE at transform. A missing/special bin empty at fit gets WoE 0 (neutral).
* Categorical levels are ordered by event rate and grouped by the same DP with an ascending
  trend. A level unseen at fit gets WoE 0 (``unseen="neutral"``, the population average) or the
  missing bin's WoE (``unseen="missing"``), with a :class:`UnseenCategoryWarning`; or an error
  (``unseen="error"``).
* Manual bins (``user_splits`` for numeric edges, ``user_groups`` for lists of levels) skip
  the optimisation; they are kept as parameters so a refit re-applies them.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from .inputs import FittedReprMixin, check_target, numeric_values, raise_problem

TRENDS = ("auto", "ascending", "descending", "peak", "valley", "none")
SMOOTHING = 0.5


class UnseenCategoryWarning(UserWarning):
    """A categorical level not seen at fit was scored with the documented unseen WoE."""


# --------------------------------------------------------------------------------------------
# WoE / IV primitives
# --------------------------------------------------------------------------------------------


def woe_iv(n_nonevent, n_event, total_nonevent, total_event):
    """Per-bin WoE and IV (vectorised) with the documented zero-count smoothing.

    Examples
    --------
    >>> w, iv = woe_iv([60, 40], [10, 30], 100, 40)
    >>> round(float(w[0]), 4), round(float(iv.sum()), 4)
    (0.8755, 0.5264)
    """
    g = np.asarray(n_nonevent, dtype=float)
    b = np.asarray(n_event, dtype=float)
    zero = (g == 0) | (b == 0)
    g = np.where(zero, g + SMOOTHING, g)
    b = np.where(zero, b + SMOOTHING, b)
    pg = g / total_nonevent
    pb = b / total_event
    woe = np.log(pg / pb)
    return woe, (pg - pb) * woe


@dataclass
class _Prebins:
    n: np.ndarray  # counts per pre-bin
    e: np.ndarray  # events per pre-bin


@dataclass(frozen=True)
class BinLimits:
    """Constraints on the regular bins, in rows (see :class:`OptimalBinning`).

    ``fixed`` lists pre-bin cut positions (1..P-1) that every solution must keep.
    """

    min_n: int = 1
    min_e: int = 0
    min_ne: int = 0
    max_bins: int | None = None
    max_n: float = np.inf
    max_e: float = np.inf
    max_ne: float = np.inf
    min_bins: int = 1
    min_rate_diff: float = 0.0
    fixed: tuple[int, ...] = ()


def _feasible_bins(N, E, valid, lim: BinLimits) -> np.ndarray:
    """``feas[i, j]``: bin of pre-bins ``i..j-1`` meets the size/event limits and crosses no
    fixed cut."""
    NE = N - E
    feas = valid & (lim.min_n <= N) & (lim.min_e <= E) & (lim.min_ne <= NE)
    feas &= (N <= lim.max_n) & (E <= lim.max_e) & (NE <= lim.max_ne)
    if lim.fixed:
        P = N.shape[0] - 1
        marks = np.zeros(P + 1)
        marks[list(lim.fixed)] = 1.0
        cm = np.cumsum(marks)  # cm[c] = fixed cuts at positions <= c
        inside = cm[None, :] - marks[None, :] - cm[:, None]  # fixed cuts strictly in (i, j)
        feas &= inside <= 0
    return feas


def _order_masks(rate, P, min_diff):
    """``[k, i, j]`` masks: bin ``[k, i)`` may precede ``[i, j)`` in each phase."""
    r_prev = rate[:, :, None]  # [k, i]
    r_new = rate[None, :, :]  # [i, j]
    with np.errstate(invalid="ignore"):
        if min_diff > 0:
            asc, desc = r_new - r_prev >= min_diff, r_prev - r_new >= min_diff
        else:
            asc, desc = r_prev < r_new, r_prev > r_new
    return {"asc": asc, "desc": desc, "none": np.ones((P + 1, P + 1, P + 1), dtype=bool)}


_PHASES = {
    "ascending": ["asc"],
    "descending": ["desc"],
    "peak": ["asc", "desc"],
    "valley": ["desc", "asc"],
    "none": ["none"],
}


def _solve_dp(pre: _Prebins, total_n, total_e, trend, lim: BinLimits):
    """Exact DP. Returns (list of cut positions in pre-bin index space, IV) or (None, -inf)."""
    P = len(pre.n)
    total_ne = total_n - total_e
    cn = np.concatenate([[0.0], np.cumsum(pre.n)])
    ce = np.concatenate([[0.0], np.cumsum(pre.e)])
    N = cn[None, :] - cn[:, None]  # N[i, j] = rows in pre-bins i..j-1
    E = ce[None, :] - ce[:, None]
    valid = np.triu(np.ones((P + 1, P + 1), dtype=bool), 1)
    feas = _feasible_bins(N, E, valid, lim)
    with np.errstate(divide="ignore", invalid="ignore"):
        _, iv = woe_iv(np.where(valid, N - E, 1), np.where(valid, E, 1), total_ne, total_e)
        rate = np.where(valid, E / np.where(N > 0, N, 1), np.nan)
    iv = np.where(feas, iv, -np.inf)
    phases = _PHASES[trend]
    cmp = _order_masks(rate, P, lim.min_rate_diff)
    M = P if lim.max_bins is None else min(int(lim.max_bins), P)
    M = max(min(M, int(cn[-1] // max(lim.min_n, 1))), 1)
    n_ph = len(phases)
    neg = -np.inf
    # best[p][i, j] for the current m
    best = [np.full((P + 1, P + 1), neg) for _ in range(n_ph)]
    best[0][0, :] = iv[0, :]
    back = []  # per m: list per phase of (arg k, source phase) arrays
    final_val, final_state = neg, None
    if np.isfinite(best[0][0, P]) and lim.min_bins <= 1:
        final_val, final_state = best[0][0, P], (1, 0, 0)
    for m in range(2, M + 1):
        new, bk = [], []
        for p, ph in enumerate(phases):
            cands, srcs = [], []
            for q in {p - 1, p} if p > 0 else {p}:
                c = np.where(cmp[ph], best[q][:, :, None], neg)  # [k, i, j]
                cands.append(c)
                srcs.append(q)
            stack = np.stack(cands)  # [src, k, i, j]
            flat = stack.reshape(len(srcs), P + 1, -1)
            flat = flat.transpose(1, 0, 2).reshape((P + 1) * len(srcs), -1)
            arg = np.argmax(flat, axis=0)
            val = flat[arg, np.arange(flat.shape[1])].reshape(P + 1, P + 1)
            arg = arg.reshape(P + 1, P + 1)
            k_arg = arg // len(srcs)
            s_arg = np.asarray(srcs)[arg % len(srcs)]
            new.append(np.where(np.isfinite(val) & feas, val + iv, neg))
            bk.append((k_arg, s_arg))
        best = new
        back.append(bk)
        if m < lim.min_bins:
            continue
        for p in range(n_ph):
            col = best[p][:, P]
            i = int(np.argmax(col))
            if col[i] > final_val + 1e-12:
                final_val, final_state = col[i], (m, p, i)
    if final_state is None:
        return None, neg
    m, p, i = final_state
    cuts = [P]
    j = P
    while m > 1:
        k_arg, s_arg = back[m - 2][p]
        k, p = int(k_arg[i, j]), int(s_arg[i, j])
        cuts.append(i)
        j, i = i, k
        m -= 1
    cuts.append(0)
    return sorted(set(cuts)), float(final_val)


# --------------------------------------------------------------------------------------------
# The single-feature estimator
# --------------------------------------------------------------------------------------------


#: optbinning's ``monotonic_trend`` values and the trend riskkit's exact DP solves for each.
OPTBINNING_TRENDS = {
    None: "none",
    "auto_heuristic": "auto",
    "auto_asc_desc": "auto_asc_desc",
    "peak_heuristic": "peak",
    "valley_heuristic": "valley",
}
#: optbinning parameters riskkit accepts but only at the value that means "off".
_OFF_ONLY = {
    "max_pvalue": None,
    "gamma": 0,
    "outlier_detector": None,
    "class_weight": None,
    "cat_cutoff": None,
    "cat_unknown": None,
}
#: riskkit's earlier parameter names, kept as aliases: alias -> optbinning name.
ALIASES = {
    "n_prebins": "max_n_prebins",
    "min_bin_share": "min_bin_size",
    "special_values": "special_codes",
}


class OptimalBinning(FittedReprMixin, TransformerMixin, BaseEstimator):
    """Optimal binning of one numeric or categorical feature (see module docstring).

    The parameters carry optbinning's names and values, so code written for
    ``optbinning.OptimalBinning`` runs unchanged; riskkit's DP finds the exact optimum whatever
    ``solver`` says. riskkit's earlier names stay as aliases (``n_prebins`` =
    ``max_n_prebins``, ``min_bin_share`` = ``min_bin_size``, ``special_values`` =
    ``special_codes``, ``user_groups`` = fixed categorical ``user_splits``).

    Parameters
    ----------
    name : str
        Feature name (used in tables and errors).
    dtype : {"numerical", "categorical"}
        ``"numeric"`` is accepted too.
    prebinning_method : {"quantile", "cart", "uniform"}
        Pre-bins the DP merges: quantiles (order statistics, riskkit's default), a CART tree as
        optbinning builds it (its default), or equal-width.
    solver : str
        Accepted for compatibility (``"cp"``, ``"mip"``, ``"ls"``, ``"dp"``): the DP is exact.
    divergence : {"iv"}
        Objective: information value.
    max_n_prebins : int
        Number of quantile pre-bins (numeric) / maximum level groups before the DP.
    min_prebin_size : float
        Minimum share of rows in a CART pre-bin.
    min_n_bins, max_n_bins : int or None
        Number of regular bins.
    min_bin_size, max_bin_size : float or None
        Share of all rows in each regular bin (``None``: ``min_prebin_size`` / no maximum).
    min_bin_n_event, max_bin_n_event, min_bin_n_nonevent, max_bin_n_nonevent : int or None
        Events / non-events per regular bin (riskkit's default minimum is 1 of each).
    monotonic_trend : str or None
        Event-rate trend over numeric bins: ``"auto"``, ``"auto_asc_desc"``,
        ``"ascending"``, ``"descending"``, ``"peak"``, ``"valley"`` or ``None``/``"none"``;
        optbinning's ``"auto_heuristic"``, ``"peak_heuristic"`` and ``"valley_heuristic"``
        are solved exactly as ``auto``, ``peak`` and ``valley``. Categoricals always use the
        ordered-rate DP.
    min_event_rate_diff : float
        Minimum event-rate difference between consecutive bins.
    max_pvalue, gamma, outlier_detector, outlier_params, class_weight, cat_cutoff, cat_unknown, max_pvalue_policy, mip_solver, time_limit, verbose
        optbinning options riskkit accepts at their "off" values (a clear error otherwise).
    user_splits : sequence, optional
        Pre-bin split points (numeric) or groups of levels (categorical) that replace the
        pre-binning, as in optbinning.
    user_splits_fixed : sequence of bool, optional
        Splits that every solution keeps; all True = manual bins (no optimisation).
    special_codes : sequence
        Values with a bin of their own (e.g. ``[-999]``).
    split_digits : int, optional
        Round the pre-bin splits to this many decimals.
    auto_shape_gain : float or None
        ``auto`` switches to peak/valley when it raises IV by this relative amount.
    unseen : {"neutral", "missing", "error"}
        What a categorical level unseen at fit scores as (see module docstring).
    n_prebins, min_bin_share, special_values, user_groups
        Aliases (riskkit's earlier names); ``user_groups`` are manual categorical groups.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> x = rng.normal(size=2000)
    >>> y = (rng.random(2000) < 1 / (1 + np.exp(-2 * x))).astype(int)
    >>> ob = OptimalBinning("x", monotonic_trend="ascending").fit(x, y)
    >>> bool(np.all(np.diff(ob.table_["event_rate"].iloc[: ob.n_bins_]) > 0))
    True
    >>> ob.status
    'OPTIMAL'
    """

    def __init__(
        self,
        name="x",
        dtype="numerical",
        *,
        prebinning_method="quantile",
        solver="dp",
        divergence="iv",
        max_n_prebins=20,
        min_prebin_size=0.05,
        min_n_bins=None,
        max_n_bins=None,
        min_bin_size=0.05,
        max_bin_size=None,
        min_bin_n_nonevent=1,
        max_bin_n_nonevent=None,
        min_bin_n_event=1,
        max_bin_n_event=None,
        monotonic_trend="auto",
        min_event_rate_diff=0,
        max_pvalue=None,
        max_pvalue_policy="consecutive",
        gamma=0,
        outlier_detector=None,
        outlier_params=None,
        class_weight=None,
        cat_cutoff=None,
        cat_unknown=None,
        user_splits=None,
        user_splits_fixed=None,
        special_codes=None,
        split_digits=None,
        mip_solver="bop",
        time_limit=100,
        verbose=False,
        auto_shape_gain=0.05,
        unseen="neutral",
        n_prebins=None,
        min_bin_share=None,
        special_values=None,
        user_groups=None,
    ):
        self.name = name
        self.dtype = dtype
        self.prebinning_method = prebinning_method
        self.solver = solver
        self.divergence = divergence
        self.max_n_prebins = max_n_prebins
        self.min_prebin_size = min_prebin_size
        self.min_n_bins = min_n_bins
        self.max_n_bins = max_n_bins
        self.min_bin_size = min_bin_size
        self.max_bin_size = max_bin_size
        self.min_bin_n_nonevent = min_bin_n_nonevent
        self.max_bin_n_nonevent = max_bin_n_nonevent
        self.min_bin_n_event = min_bin_n_event
        self.max_bin_n_event = max_bin_n_event
        self.monotonic_trend = monotonic_trend
        self.min_event_rate_diff = min_event_rate_diff
        self.max_pvalue = max_pvalue
        self.max_pvalue_policy = max_pvalue_policy
        self.gamma = gamma
        self.outlier_detector = outlier_detector
        self.outlier_params = outlier_params
        self.class_weight = class_weight
        self.cat_cutoff = cat_cutoff
        self.cat_unknown = cat_unknown
        self.user_splits = user_splits
        self.user_splits_fixed = user_splits_fixed
        self.special_codes = special_codes
        self.split_digits = split_digits
        self.mip_solver = mip_solver
        self.time_limit = time_limit
        self.verbose = verbose
        self.auto_shape_gain = auto_shape_gain
        self.unseen = unseen
        self.n_prebins = n_prebins
        self.min_bin_share = min_bin_share
        self.special_values = special_values
        self.user_groups = user_groups

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        # one feature at a time, like optbinning and sklearn's IsotonicRegression
        tags.input_tags.one_d_array = True
        tags.input_tags.two_d_array = False
        tags.input_tags.allow_nan = True
        tags.input_tags.categorical = True
        tags.input_tags.string = True
        tags.target_tags.required = True
        return tags

    # ----------------------------------------------------------------- settings
    def _setting(self, name: str):
        """The effective value of an optbinning-named parameter (its alias wins when set)."""
        alias = {v: k for k, v in ALIASES.items()}.get(name)
        if alias is not None and getattr(self, alias) is not None:
            return getattr(self, alias)
        return getattr(self, name)

    def _trend(self) -> str:
        t = self.monotonic_trend
        t = OPTBINNING_TRENDS.get(t, t) if t is None or t in OPTBINNING_TRENDS else t
        if t not in TRENDS and t != "auto_asc_desc":
            allowed = sorted({*TRENDS, "auto_asc_desc", *[k for k in OPTBINNING_TRENDS if k]})
            raise ValueError(
                f"monotonic_trend {self.monotonic_trend!r} is not supported (optbinning's "
                f"'concave'/'convex' are not); use one of {allowed} or None"
            )
        return t

    def _check_settings(self) -> None:
        self._trend()
        if self.dtype not in ("numeric", "numerical", "categorical"):
            raise ValueError(f"dtype must be 'numerical' or 'categorical', got {self.dtype!r}")
        if self.unseen not in ("neutral", "missing", "error"):
            raise ValueError(f"unseen must be neutral/missing/error, got {self.unseen!r}")
        if self.prebinning_method not in ("quantile", "cart", "uniform"):
            raise ValueError(
                f"prebinning_method must be quantile/cart/uniform, got {self.prebinning_method!r}"
            )
        if self.divergence != "iv":
            raise ValueError(f"divergence {self.divergence!r} is not supported (only 'iv')")
        for k, off in _OFF_ONLY.items():
            if getattr(self, k) != off:
                raise ValueError(
                    f"{k}={getattr(self, k)!r} (an optbinning option) is not implemented in "
                    f"riskkit; leave it at {off!r}"
                )
        if isinstance(self._setting("special_codes"), dict):
            raise ValueError(
                "special_codes as a dict of named groups is not supported; pass a list"
            )

    def _limits(self, total_n: int, fixed=()) -> BinLimits:
        share = self._setting("min_bin_size")
        share = self.min_prebin_size if share is None else share
        cap = self.max_bin_size
        return BinLimits(
            min_n=max(math.ceil(share * total_n - 1e-9), 1),
            min_e=int(self.min_bin_n_event or 0),
            min_ne=int(self.min_bin_n_nonevent or 0),
            max_bins=self.max_n_bins,
            max_n=np.inf if cap is None else math.ceil(cap * total_n),
            max_e=np.inf if self.max_bin_n_event is None else self.max_bin_n_event,
            max_ne=np.inf if self.max_bin_n_nonevent is None else self.max_bin_n_nonevent,
            min_bins=int(self.min_n_bins or 1),
            min_rate_diff=float(self.min_event_rate_diff or 0),
            fixed=tuple(int(f) for f in fixed),
        )

    @property
    def is_categorical(self) -> bool:
        return self.dtype == "categorical"

    def _manual(self):
        """Manual bins (user splits all fixed, or ``user_groups``), else None."""
        if self.user_groups is not None:
            return self.user_groups
        if self.user_splits is None:
            return None
        fixed = self.user_splits_fixed
        if fixed is not None and len(fixed) == len(self.user_splits) and all(fixed):
            return self.user_splits
        return None

    # ----------------------------------------------------------------- fit
    def fit(self, x, y, sample_weight=None, check_input=False):
        """Find the bins of ``x`` for the binary target ``y`` (1 = bad).

        ``sample_weight`` and ``check_input`` are accepted for optbinning compatibility;
        weights are not supported (``None`` only)."""
        if sample_weight is not None:
            raise ValueError("sample_weight is not supported by riskkit's OptimalBinning")
        self._check_settings()
        s = x if isinstance(x, pd.Series) else pd.Series(np.asarray(x))
        yv = check_target(y)
        if len(yv) != len(s):
            raise_problem(self.name, f"feature has {len(s)} rows but target has {len(yv)}")
        return self._fit(s, yv)

    def _fit(self, s: pd.Series, yv: np.ndarray):
        """Fit on a validated int8 0/1 target (used by WoETransformer after one check)."""
        self._check_settings()
        self.special_values_ = list(self._setting("special_codes") or ())
        total_n, total_e = len(yv), int(yv.sum())
        if self.is_categorical:
            idx = self._fit_categorical_column(s, yv, total_n, total_e)
        else:
            idx = self._fit_numeric_column(s, yv, total_n, total_e)
        self._set_stats(idx, yv, total_n, total_e)
        return self

    def _fit_numeric_column(self, s, yv, total_n, total_e) -> np.ndarray:
        xv = numeric_values(s, self.name)
        miss = np.isnan(xv)
        spec_idx = self._special_index(xv)
        regular = ~miss & (spec_idx < 0)
        xr = xv[regular]
        if xr.size and xr.min() == xr.max() and not (miss.any() or (spec_idx >= 0).any()):
            raise_problem(self.name, f"feature is constant ({xr[0]!r}); drop it")
        if not xr.size and not (spec_idx >= 0).any():
            raise_problem(self.name, "feature is all missing; drop it")
        self._pre_fit = None
        splits = self._fit_numeric(xr, yv[regular], total_n, total_e)
        self.splits_ = np.asarray(splits, dtype=float)
        self.categories_ = None
        if self._pre_fit is not None:  # final bins are unions of pre-bins: map, no search
            edges, b = self._pre_fit
            pre_to_bin = np.searchsorted(self.splits_, np.r_[-np.inf, edges], side="right")
            idx = np.empty(xv.shape, dtype=np.int64)
            idx[regular] = pre_to_bin[b]
            sp = spec_idx >= 0
            idx[sp] = self.n_bins_ + spec_idx[sp]
            idx[miss] = self.n_bins_ + len(self.special_values_)
        else:
            idx = self._index_numeric(xv, miss, spec_idx)
        del self._pre_fit
        return idx

    def _fit_categorical_column(self, s, yv, total_n, total_e) -> np.ndarray:
        miss = s.isna().to_numpy()
        spec_idx = self._special_index_cat(s)
        regular = ~miss & (spec_idx < 0)
        vals = s[regular]
        if vals.nunique() <= 1 and not (miss.any() or (spec_idx >= 0).any()):
            if vals.size == 0:
                raise_problem(self.name, "feature is all missing; drop it")
            raise_problem(self.name, f"feature is constant ({vals.iloc[0]!r}); drop it")
        self._fit_categorical(vals, yv[regular], total_n, total_e)
        self.splits_ = None
        return self._index_categorical(s, warn=False)

    def _special_index(self, xv):
        out = np.full(xv.shape, -1, dtype=np.int64)
        for k, v in enumerate(self.special_values_):
            out[xv == float(v)] = k
        return out

    def _special_index_cat(self, s):
        codes, uniq = _factorize(s)
        spec_u = self._special_of_levels(uniq)
        return np.where(codes >= 0, spec_u[np.maximum(codes, 0)], -1)

    def _special_of_levels(self, uniq) -> np.ndarray:
        """Special-value index of each distinct level (-1 = not special); small arrays only."""
        out = np.full(len(uniq), -1, dtype=np.int64)
        for k, v in enumerate(self.special_values_):
            hit = np.array([type(u) is type(v) and u == v for u in uniq], dtype=bool)
            hit |= np.array([_same_number(u, v) for u in uniq], dtype=bool)
            out[hit & (out < 0)] = k
        return out

    def _trend_solve(self, pre, total_n, total_e, trend, fixed=()):
        lim = self._limits(total_n, fixed)
        if trend not in ("auto", "auto_asc_desc"):
            cuts, iv = _solve_dp(pre, total_n, total_e, trend, lim)
            return cuts, iv, trend
        best = (None, -np.inf, "ascending")
        for t in ("ascending", "descending"):
            cuts, iv = _solve_dp(pre, total_n, total_e, t, lim)
            if iv > best[1]:
                best = (cuts, iv, t)
        if trend == "auto" and self.auto_shape_gain is not None and len(pre.n) > 2:
            for t in ("peak", "valley"):
                cuts, iv = _solve_dp(pre, total_n, total_e, t, lim)
                if iv > best[1] * (1 + self.auto_shape_gain) + 1e-12:
                    best = (cuts, iv, t)
        return best

    def _prebin_edges(self, xr, yr, total_n) -> np.ndarray:
        """Pre-bin split points of the regular values (``user_splits`` when given)."""
        if self.user_splits is not None:
            edges = np.unique(np.asarray(self.user_splits, dtype=float))
        elif self.prebinning_method == "cart":
            edges = cart_prebins(xr, yr, self._setting("max_n_prebins"), self.min_prebin_size,
                                 total_n)  # fmt: skip
        elif self.prebinning_method == "uniform":
            P = max(int(self._setting("max_n_prebins")), 1)
            edges = np.linspace(xr.min(), xr.max(), P + 1)[1:-1]
        else:
            n = xr.size
            P = max(int(self._setting("max_n_prebins")), 1)
            pos = np.unique((np.arange(1, P) * n) // P)
            part = np.partition(xr, np.r_[0, pos])  # order statistics without a full sort
            edges = np.unique(part[pos])
            edges = edges[edges > part[0]]
        if self.split_digits is not None:
            edges = np.unique(np.round(edges, int(self.split_digits)))
        return edges

    def _fixed_positions(self, edges) -> list[int]:
        """Pre-bin cut positions of the ``user_splits`` marked fixed."""
        if self.user_splits is None or self.user_splits_fixed is None:
            return []
        if len(self.user_splits_fixed) != len(self.user_splits):
            raise ValueError("user_splits_fixed needs one True/False per user split")
        keep = [
            float(v) for v, f in zip(self.user_splits, self.user_splits_fixed, strict=True) if f
        ]
        return [int(np.searchsorted(edges, v)) + 1 for v in keep]

    def _fit_numeric(self, xr, yr, total_n, total_e):
        manual = self._manual()
        if manual is not None:
            self.trend_ = "manual"
            return sorted(float(v) for v in manual)
        if xr.size == 0:
            self.trend_ = "none"
            return []
        edges = self._prebin_edges(xr, yr, total_n)
        if edges.size == 0:
            self.trend_ = "none"
            return []
        b = np.searchsorted(edges, xr, side="right")
        self._pre_fit = (edges, b)  # reused by fit() to index the regular rows
        pre = _Prebins(
            np.bincount(b, minlength=edges.size + 1).astype(float),
            np.bincount(b, weights=yr, minlength=edges.size + 1),
        )
        fixed = self._fixed_positions(edges)
        cuts, _, trend = self._trend_solve(pre, total_n, total_e, self._trend(), fixed)
        self.trend_ = trend
        if cuts is None:  # no feasible split: one regular bin
            return []
        return [float(edges[c - 1]) for c in cuts[1:-1]]

    def _level_groups(self, levels, n, e) -> np.ndarray:
        """Pre-group of each level: the user's groups, or rate-ordered groups of ~equal count
        (at most ``max_n_prebins``); groups are numbered in event-rate order."""
        L = len(levels)
        if self.user_splits is not None:
            gid = np.full(L, -1)
            pos = {v: k for k, v in enumerate(levels.tolist())}
            for k, g in enumerate(self.user_splits):
                gid[[pos[v] for v in g if v in pos]] = k
            gid[gid < 0] = len(self.user_splits)
            _, gid = np.unique(gid, return_inverse=True)
        else:
            order = np.lexsort((np.arange(L), e / np.maximum(n, 1)))
            P = max(int(self._setting("max_n_prebins")), 1)
            cum = np.cumsum(n[order])
            g = np.minimum((P * (cum - n[order]) // max(cum[-1], 1)).astype(int), P - 1)
            gid = np.empty(L, dtype=np.int64)
            gid[order] = np.unique(g, return_inverse=True)[1]
        gn, ge = np.bincount(gid, weights=n), np.bincount(gid, weights=e)
        rank = np.empty(len(gn), dtype=np.int64)
        rank[np.lexsort((np.arange(len(gn)), ge / np.maximum(gn, 1)))] = np.arange(len(gn))
        return rank[gid]

    def _fit_categorical(self, vals, yr, total_n, total_e):
        codes, levels = pd.factorize(vals, sort=True)
        L = len(levels)
        manual = self._manual()
        if manual is not None:
            self.trend_ = "manual"
            groups = [list(g) for g in manual]
            listed = {v for g in groups for v in g}
            rest = [v for v in levels.tolist() if v not in listed]
            if rest:
                groups.append(rest)
            self.categories_ = groups
            return
        n = np.bincount(codes, minlength=L).astype(float)
        e = np.bincount(codes, weights=yr, minlength=L)
        grp = self._level_groups(levels, n, e)
        pre = _Prebins(np.bincount(grp, weights=n), np.bincount(grp, weights=e))
        if len(pre.n) > 1:
            cuts, _, _ = self._trend_solve(pre, total_n, total_e, "ascending")
        else:
            cuts = None
        self.trend_ = "ascending (ordered levels)"
        if cuts is None:
            cuts = [0, len(pre.n)]
        lv = levels.to_numpy()
        rate_order = np.lexsort((np.arange(L), e / np.maximum(n, 1)))
        self.categories_ = []
        for a, b in zip(cuts[:-1], cuts[1:], strict=True):
            members = rate_order[(grp[rate_order] >= a) & (grp[rate_order] < b)]
            self.categories_.append([_py(v) for v in lv[members]])

    # ----------------------------------------------------------------- indexing
    @property
    def n_bins_(self) -> int:
        """Number of regular bins (without special and missing bins)."""
        if self.splits_ is not None:
            return len(self.splits_) + 1
        return len(self.categories_)

    @property
    def n_all_bins_(self) -> int:
        """Regular + special + missing bins (the unseen slot is extra)."""
        return self.n_bins_ + len(self.special_values_) + 1

    def _index_numeric(self, xv, miss, spec_idx):
        if len(self.splits_) <= 32:  # a few vectorised comparisons beat a binary search
            idx = np.zeros(xv.shape, dtype=np.intp)
            for edge in self.splits_:
                np.add(idx, xv >= edge, out=idx, casting="unsafe")
        else:
            idx = np.searchsorted(self.splits_, xv, side="right")
        B = self.n_bins_
        sp = spec_idx >= 0
        idx[sp] = B + spec_idx[sp]
        idx[miss] = B + len(self.special_values_)
        return idx

    def _index_categorical(self, s, warn=True):
        """Bin index via one factorize of the column; lookups run on the distinct levels."""
        B = self.n_bins_
        S = len(self.special_values_)
        codes, uniq = _factorize(s)
        lv = [v for g in self.categories_ for v in g]
        gid = np.concatenate([np.full(len(g), k) for k, g in enumerate(self.categories_)])
        pos = pd.Index(lv, dtype=object).get_indexer(pd.Index(uniq, dtype=object))
        umap = np.where(pos >= 0, gid[np.maximum(pos, 0)], -1).astype(np.int64)
        spec_u = self._special_of_levels(uniq)
        umap = np.where(spec_u >= 0, B + spec_u, umap)
        unseen_u = umap < 0
        if unseen_u.any():
            levels = [uniq[i] for i in np.flatnonzero(unseen_u)[:5]]
            n_unseen = int(np.isin(codes, np.flatnonzero(unseen_u)).sum())
            if self.unseen == "error":
                raise_problem(self.name, f"categories not seen at fit: {levels}")
            if warn:
                where = "neutral WoE 0" if self.unseen == "neutral" else "the missing bin"
                warnings.warn(
                    f"feature {self.name!r}: {n_unseen} row(s) with categories not "
                    f"seen at fit {levels} scored as {where}",
                    UnseenCategoryWarning,
                    stacklevel=3,
                )
            umap[unseen_u] = B + S + (1 if self.unseen == "neutral" else 0)
        umap = np.append(umap, B + S)  # code -1 (missing) -> missing bin
        return umap[codes]

    def bin_index(self, x) -> np.ndarray:
        """Bin index per row: regular bins, then special bins, then missing, then unseen."""
        check_is_fitted(self, "woe_")
        s = x if isinstance(x, pd.Series) else pd.Series(np.asarray(x))
        if self.splits_ is not None:
            xv = numeric_values(s, self.name)
            return self._index_numeric(xv, np.isnan(xv), self._special_index(xv))
        return self._index_categorical(s)

    # ----------------------------------------------------------------- statistics
    def _set_stats(self, idx, y, total_n, total_e):
        K = self.n_all_bins_
        n = np.bincount(idx, minlength=K).astype(float)[:K]
        e = np.bincount(idx, weights=y, minlength=K)[:K]
        ne = n - e
        total_ne = total_n - total_e
        woe, iv = woe_iv(ne, e, total_ne, total_e)
        empty = n == 0
        woe = np.where(empty, 0.0, woe)
        iv = np.where(empty, 0.0, iv)
        self.woe_ = np.append(woe, 0.0)  # last slot: unseen categories (neutral)
        self.iv_ = float(iv.sum())
        with np.errstate(invalid="ignore", divide="ignore"):
            rate = np.where(n > 0, e / np.where(n > 0, n, 1), np.nan)
        self.table_ = pd.DataFrame(
            {
                "bin": self.bin_labels(),
                "count": n.astype(np.int64),
                "count_share": n / total_n,
                "n_nonevent": ne.astype(np.int64),
                "n_event": e.astype(np.int64),
                "event_rate": rate,
                "woe": woe,
                "iv": iv,
            }
        )
        self.n_ = int(total_n)
        self.n_event_ = int(total_e)

    def bin_labels(self) -> list[str]:
        if self.splits_ is not None:
            edges = [-np.inf, *self.splits_.tolist(), np.inf]
            labels = [f"[{a:g}, {b:g})" for a, b in zip(edges[:-1], edges[1:], strict=True)]
        else:
            labels = [", ".join(map(str, g)) for g in self.categories_]
        labels += [f"special {v!r}" for v in self.special_values_]
        return [*labels, "missing"]

    def binning_table(self, totals: bool = True) -> pd.DataFrame:
        """Counts, shares, event rate, WoE and IV per bin, with a totals row."""
        t = self.table_.copy()
        if totals:
            tot = {
                "bin": "Totals",
                "count": t["count"].sum(),
                "count_share": t["count_share"].sum(),
                "n_nonevent": t["n_nonevent"].sum(),
                "n_event": t["n_event"].sum(),
                "event_rate": t["n_event"].sum() / t["count"].sum(),
                "woe": np.nan,
                "iv": t["iv"].sum(),
            }
            t = pd.concat([t, pd.DataFrame([tot])], ignore_index=True)
        return t

    # ----------------------------------------------------------------- transform
    def transform(
        self,
        x,
        metric: str = "woe",
        metric_special="empirical",
        metric_missing="empirical",
        show_digits: int = 2,
        check_input: bool = False,
    ):
        """WoE (``metric="woe"``), event rate (``"event_rate"``), bin index (``"indices"``) or
        bin label (``"bins"``) per row.

        ``metric_special`` / ``metric_missing`` (optbinning's names): ``"empirical"`` (riskkit's
        default: the bin's own WoE or event rate) or a number to use for every special / missing
        row instead (optbinning's default is 0). ``show_digits`` and ``check_input`` are accepted
        for optbinning compatibility.
        """
        idx = self.bin_index(x)
        if metric == "indices":
            return idx
        if metric == "bins":
            labels = np.asarray([*self.bin_labels(), "unseen"], dtype=object)
            return labels[idx]
        if metric == "woe":
            values = self.woe_
        elif metric == "event_rate":
            rate = self.table_["event_rate"].to_numpy(dtype=float)
            overall = self.n_event_ / self.n_ if self.n_ else np.nan
            values = np.append(np.where(np.isnan(rate), overall, rate), overall)
        else:
            raise ValueError(f"metric must be woe/event_rate/indices/bins, got {metric!r}")
        values = np.array(values, dtype=float)
        B, S = self.n_bins_, len(self.special_values_)
        for sl, how in (
            (slice(B, B + S), metric_special),
            (slice(B + S, B + S + 1), metric_missing),
        ):
            if how != "empirical":
                values[sl] = float(how)
        return values[idx]

    def fit_transform(self, x, y, sample_weight=None, metric="woe", **transform_params):
        """:meth:`fit` then :meth:`transform` (optbinning's signature)."""
        return self.fit(x, y, sample_weight).transform(x, metric=metric, **transform_params)

    @property
    def splits(self):
        """optbinning's name for the optimal splits: numeric split points, or the groups of
        levels of a categorical feature."""
        check_is_fitted(self, "woe_")
        return (
            self.splits_ if self.splits_ is not None else [np.asarray(g) for g in self.categories_]
        )

    @property
    def status(self) -> str:
        """``"OPTIMAL"`` once fitted (the DP is exact), as optbinning reports it."""
        check_is_fitted(self, "woe_")
        return "OPTIMAL"

    # ----------------------------------------------------------------- persistence
    def to_dict(self) -> dict:
        """JSON-ready description of the fitted bins (exact floats)."""
        return {
            "name": self.name,
            "dtype": self.dtype,
            "params": {
                k: (list(v) if isinstance(v, tuple) else v) for k, v in self.get_params().items()
            },
            "splits": None if self.splits_ is None else self.splits_.tolist(),
            "categories": self.categories_,
            "special_values": self.special_values_,
            "woe": self.woe_.tolist(),
            "iv": self.iv_,
            "trend": self.trend_,
            "table": self.table_.to_dict(orient="list"),
            "n": self.n_,
            "n_event": self.n_event_,
        }

    @classmethod
    def from_dict(cls, d: dict) -> OptimalBinning:
        ob = cls(**d["params"])
        ob.splits_ = None if d["splits"] is None else np.asarray(d["splits"], dtype=float)
        ob.categories_ = d["categories"]
        ob.special_values_ = list(d["special_values"])
        ob.woe_ = np.asarray(d["woe"], dtype=float)
        ob.iv_ = d["iv"]
        ob.trend_ = d["trend"]
        ob.table_ = pd.DataFrame(d["table"])
        ob.n_, ob.n_event_ = d["n"], d["n_event"]
        return ob

    # ----------------------------------------------------------------- display
    _fitted_attr = "woe_"

    def _fitted_repr(self) -> str:
        return (
            f"OptimalBinning({self.name!r}, {self.dtype}, bins={self.n_bins_}, "
            f"trend={self.trend_}, IV={self.iv_:.4f})"
        )

    def _html_table(self) -> str:
        return self.binning_table().to_html(float_format=lambda v: f"{v:.4f}")


def cart_prebins(x, y, max_n_prebins: int, min_prebin_size: float, total_n: int) -> np.ndarray:
    """Pre-bin splits of a CART tree as optbinning builds them: leaves of at least
    ``ceil(min_prebin_size * total_n)`` rows, at most ``max_n_prebins`` leaves."""
    from sklearn.tree import DecisionTreeClassifier

    min_leaf = max(int(np.ceil(min_prebin_size * total_n)), 1)
    tree = DecisionTreeClassifier(min_samples_leaf=min_leaf, max_leaf_nodes=int(max_n_prebins))
    tree.fit(np.asarray(x, dtype=float).reshape(-1, 1), y)
    t = np.unique(tree.tree_.threshold)
    return t[t != -2.0]  # sklearn's TREE_UNDEFINED marks leaves


def _factorize(s: pd.Series):
    """Codes (-1 = missing) and distinct levels as Python objects."""
    codes, uniq = pd.factorize(s, use_na_sentinel=True)
    return np.asarray(codes, dtype=np.int64), [_py(u) for u in np.asarray(uniq, dtype=object)]


def _same_number(u, v) -> bool:
    num = (int, float, np.integer, np.floating)
    return isinstance(u, num) and isinstance(v, num) and not isinstance(u, bool) and u == v


def _py(v):
    """numpy scalar -> python scalar (JSON-friendly)."""
    return v.item() if hasattr(v, "item") else v
