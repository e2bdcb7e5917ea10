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


def _solve_dp(pre: _Prebins, total_n, total_e, trend, min_n, min_e, min_ne, max_bins):
    """Exact DP. Returns (list of cut positions in pre-bin index space, IV) or (None, -inf)."""
    P = len(pre.n)
    total_ne = total_n - total_e
    cn = np.concatenate([[0.0], np.cumsum(pre.n)])
    ce = np.concatenate([[0.0], np.cumsum(pre.e)])
    N = cn[None, :] - cn[:, None]  # N[i, j] = rows in pre-bins i..j-1
    E = ce[None, :] - ce[:, None]
    NE = N - E
    valid = np.triu(np.ones((P + 1, P + 1), dtype=bool), 1)
    feas = valid & (min_n <= N) & (min_e <= E) & (min_ne <= NE)
    with np.errstate(divide="ignore", invalid="ignore"):
        _, iv = woe_iv(np.where(valid, NE, 1), np.where(valid, E, 1), total_ne, total_e)
        rate = np.where(valid, E / np.where(N > 0, N, 1), np.nan)
    iv = np.where(feas, iv, -np.inf)
    phases = {
        "ascending": ["asc"],
        "descending": ["desc"],
        "peak": ["asc", "desc"],
        "valley": ["desc", "asc"],
        "none": ["none"],
    }[trend]
    # allowed[phase][k, i, j]: previous bin [k, i) may precede bin [i, j) in that phase
    r_prev = rate[:, :, None]  # [k, i]
    r_new = rate[None, :, :]  # [i, j]
    with np.errstate(invalid="ignore"):
        cmp = {
            "asc": r_prev < r_new,
            "desc": r_prev > r_new,
            "none": np.ones((P + 1, P + 1, P + 1), dtype=bool),
        }
    M = P if max_bins is None else min(int(max_bins), P)
    M = max(min(M, int(cn[-1] // max(min_n, 1))), 1)
    n_ph = len(phases)
    neg = -np.inf
    # best[p][i, j] for the current m
    best = [np.full((P + 1, P + 1), neg) for _ in range(n_ph)]
    best[0][0, :] = iv[0, :]
    back = []  # per m: list per phase of (arg k, source phase) arrays
    final_val, final_state = neg, None
    if np.isfinite(best[0][0, P]):
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


class OptimalBinning(FittedReprMixin, BaseEstimator, TransformerMixin):
    """Optimal binning of one numeric or categorical feature (see module docstring).

    Parameters
    ----------
    name : str
        Feature name (used in tables and errors).
    dtype : {"numeric", "categorical"}
    n_prebins : int
        Number of quantile pre-bins (numeric) / maximum level groups before the DP.
    min_bin_share : float
        Minimum share of all rows in each regular bin.
    max_n_bins : int or None
    min_bin_n_event, min_bin_n_nonevent : int
        Minimum events / non-events per regular bin.
    monotonic_trend : {"auto", "ascending", "descending", "peak", "valley", "none"}
        Event-rate trend over numeric bins (categoricals always use the ordered-rate DP).
    auto_shape_gain : float or None
        ``auto`` switches to peak/valley when it raises IV by this relative amount.
    special_values : sequence
        Values with a bin of their own (e.g. ``[-999]``).
    user_splits : sequence of float, optional
        Manual numeric edges (bins ``[e_k, e_k+1)``); skip the optimisation.
    user_groups : list of lists, optional
        Manual categorical groups; levels not listed form one more group.
    unseen : {"neutral", "missing", "error"}
        What a categorical level unseen at fit scores as (see module docstring).

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> x = rng.normal(size=2000)
    >>> y = (rng.random(2000) < 1 / (1 + np.exp(-2 * x))).astype(int)
    >>> ob = OptimalBinning("x", monotonic_trend="ascending").fit(x, y)
    >>> bool(np.all(np.diff(ob.table_["event_rate"].iloc[: ob.n_bins_]) > 0))
    True
    """

    def __init__(
        self,
        name="x",
        dtype="numeric",
        n_prebins=20,
        min_bin_share=0.05,
        max_n_bins=None,
        min_bin_n_event=1,
        min_bin_n_nonevent=1,
        monotonic_trend="auto",
        auto_shape_gain=0.05,
        special_values=(),
        user_splits=None,
        user_groups=None,
        unseen="neutral",
    ):
        self.name = name
        self.dtype = dtype
        self.n_prebins = n_prebins
        self.min_bin_share = min_bin_share
        self.max_n_bins = max_n_bins
        self.min_bin_n_event = min_bin_n_event
        self.min_bin_n_nonevent = min_bin_n_nonevent
        self.monotonic_trend = monotonic_trend
        self.auto_shape_gain = auto_shape_gain
        self.special_values = special_values
        self.user_splits = user_splits
        self.user_groups = user_groups
        self.unseen = unseen

    # ----------------------------------------------------------------- fit
    def fit(self, x, y):
        """Find the bins of ``x`` for the binary target ``y`` (1 = bad)."""
        if self.monotonic_trend not in TRENDS:
            raise ValueError(f"monotonic_trend must be one of {TRENDS}, got {self.monotonic_trend}")
        if self.dtype not in ("numeric", "categorical"):
            raise ValueError(f"dtype must be 'numeric' or 'categorical', got {self.dtype!r}")
        if self.unseen not in ("neutral", "missing", "error"):
            raise ValueError(f"unseen must be neutral/missing/error, got {self.unseen!r}")
        s = x if isinstance(x, pd.Series) else pd.Series(np.asarray(x))
        yv = check_target(y)
        if len(yv) != len(s):
            raise_problem(self.name, f"feature has {len(s)} rows but target has {len(yv)}")
        return self._fit(s, yv)

    def _fit(self, s: pd.Series, yv: np.ndarray):
        """Fit on a validated int8 0/1 target (used by WoETransformer after one check)."""
        self.special_values_ = list(self.special_values or ())
        total_n, total_e = len(yv), int(yv.sum())
        if self.dtype == "numeric":
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
        else:
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
            idx = self._index_categorical(s, warn=False)
        self._set_stats(idx, yv, total_n, total_e)
        return self

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

    def _trend_solve(self, pre, total_n, total_e, trend):
        min_n = max(math.ceil(self.min_bin_share * total_n - 1e-9), 1)
        args = (min_n, self.min_bin_n_event, self.min_bin_n_nonevent, self.max_n_bins)
        if trend != "auto":
            cuts, iv = _solve_dp(pre, total_n, total_e, trend, *args)
            return cuts, iv, trend
        best = (None, -np.inf, "ascending")
        for t in ("ascending", "descending"):
            cuts, iv = _solve_dp(pre, total_n, total_e, t, *args)
            if iv > best[1]:
                best = (cuts, iv, t)
        if self.auto_shape_gain is not None and len(pre.n) > 2:
            for t in ("peak", "valley"):
                cuts, iv = _solve_dp(pre, total_n, total_e, t, *args)
                if iv > best[1] * (1 + self.auto_shape_gain) + 1e-12:
                    best = (cuts, iv, t)
        return best

    def _fit_numeric(self, xr, yr, total_n, total_e):
        if self.user_splits is not None:
            self.trend_ = "manual"
            return sorted(float(v) for v in self.user_splits)
        if xr.size == 0:
            self.trend_ = "none"
            return []
        n = xr.size
        P = max(int(self.n_prebins), 1)
        pos = np.unique((np.arange(1, P) * n) // P)
        part = np.partition(xr, np.r_[0, pos])  # order statistics without a full sort
        edges = np.unique(part[pos])
        edges = edges[edges > part[0]]
        if edges.size == 0:
            self.trend_ = "none"
            return []
        b = np.searchsorted(edges, xr, side="right")
        self._pre_fit = (edges, b)  # reused by fit() to index the regular rows
        pre = _Prebins(
            np.bincount(b, minlength=edges.size + 1).astype(float),
            np.bincount(b, weights=yr, minlength=edges.size + 1),
        )
        cuts, _, trend = self._trend_solve(pre, total_n, total_e, self.monotonic_trend)
        self.trend_ = trend
        if cuts is None:  # no feasible split: one regular bin
            return []
        return [float(edges[c - 1]) for c in cuts[1:-1]]

    def _fit_categorical(self, vals, yr, total_n, total_e):
        codes, levels = pd.factorize(vals, sort=True)
        L = len(levels)
        if self.user_groups is not None:
            self.trend_ = "manual"
            groups = [list(g) for g in self.user_groups]
            listed = {v for g in groups for v in g}
            rest = [v for v in levels.tolist() if v not in listed]
            if rest:
                groups.append(rest)
            self.categories_ = groups
            return
        n = np.bincount(codes, minlength=L).astype(float)
        e = np.bincount(codes, weights=yr, minlength=L)
        order = np.lexsort((np.arange(L), e / np.maximum(n, 1)))
        P = max(int(self.n_prebins), 1)
        # pre-group consecutive (rate-ordered) levels into at most P groups of ~equal count
        cum = np.cumsum(n[order])
        grp = np.minimum((P * (cum - n[order]) // max(cum[-1], 1)).astype(int), P - 1)
        _, grp = np.unique(grp, return_inverse=True)
        pre = _Prebins(np.bincount(grp, weights=n[order]), np.bincount(grp, weights=e[order]))
        if len(pre.n) > 1:
            cuts, _, _ = self._trend_solve(pre, total_n, total_e, "ascending")
        else:
            cuts = None
        self.trend_ = "ascending (ordered levels)"
        if cuts is None:
            cuts = [0, len(pre.n)]
        lv = levels.to_numpy()
        self.categories_ = []
        for a, b in zip(cuts[:-1], cuts[1:], strict=True):
            members = order[(grp >= a) & (grp < b)]
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
    def transform(self, x, metric: str = "woe"):
        """WoE (``metric="woe"``), bin index (``"indices"``) or bin label (``"bins"``)."""
        idx = self.bin_index(x)
        if metric == "indices":
            return idx
        if metric == "bins":
            labels = np.asarray([*self.bin_labels(), "unseen"], dtype=object)
            return labels[idx]
        if metric != "woe":
            raise ValueError(f"metric must be woe/indices/bins, got {metric!r}")
        return self.woe_[idx]

    def fit_transform(self, x, y, metric="woe"):
        return self.fit(x, y).transform(x, metric=metric)

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
