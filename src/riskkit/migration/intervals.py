"""Confidence intervals for transition probabilities: analytic (multinomial per row) and a
bootstrap that resamples loans.

Analytic intervals treat each row of counts as one multinomial sample:

* ``"goodman"`` -- Goodman (1965) simultaneous intervals for all cells of a row: with
  ``A = chi2_1(1 - alpha / k)`` (``k`` cells), bounds
  ``(A + 2 n_j -/+ sqrt(A (A + 4 n_j (N - n_j) / N))) / (2 (N + A))``;
* ``"wilson"`` -- Wilson score interval per cell (not simultaneous);
* ``"wald"`` -- normal approximation ``p -/+ z sqrt(p (1 - p) / N)`` clipped to [0, 1].

The bootstrap resamples *loans* with replacement (all transitions of a loan travel together,
so within-loan dependence is kept), recomputes the matrix for every replicate in a vectorised
sparse product and reports percentile bounds.

Examples
--------
>>> import numpy as np
>>> lo, hi = multinomial_ci(np.array([[80, 15, 5]]), method="wald")
>>> bool(lo[0, 0] < 0.8 < hi[0, 0])
True
"""

from __future__ import annotations

import numpy as np
from scipy import sparse, stats

from .panel import MigrationPanel
from .transitions import cohort_pairs, normalise_counts

METHODS = ("goodman", "wilson", "wald")


def multinomial_ci(counts, method: str = "goodman", alpha: float = 0.05, proportions=None):
    """Per-cell confidence bounds for a matrix of row-multinomial counts.

    Parameters
    ----------
    counts : array-like (S, S)
        Loan counts per row (the multinomial sample sizes are the row sums).
    method : {"goodman", "wilson", "wald"}
    alpha : float
        1 - confidence level.
    proportions : array-like (S, S), optional
        Point estimates to centre on (e.g. balance-weighted counts); default ``counts``.

    Returns
    -------
    lower, upper : ndarray (S, S)
        Rows with no observations get bounds (0, 1).
    """
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must be in (0, 1), got {alpha}")
    c = np.asarray(counts, dtype=float)
    n = c.sum(axis=1, keepdims=True)
    src = c if proportions is None else np.asarray(proportions, dtype=float)
    tot = src.sum(axis=1, keepdims=True)
    p = np.divide(src, tot, out=np.zeros_like(src), where=tot > 0)
    k = c.shape[1]
    if method == "goodman":
        a = stats.chi2.ppf(1 - alpha / k, 1)
        root = np.sqrt(a * (a + 4 * n * p * (1 - p)))
        lo = (a + 2 * n * p - root) / (2 * (n + a))
        hi = (a + 2 * n * p + root) / (2 * (n + a))
    elif method == "wilson":
        z = stats.norm.ppf(1 - alpha / 2)
        with np.errstate(invalid="ignore", divide="ignore"):
            centre = (p + z * z / (2 * n)) / (1 + z * z / n)
            half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
        lo, hi = centre - half, centre + half
    else:
        z = stats.norm.ppf(1 - alpha / 2)
        with np.errstate(invalid="ignore", divide="ignore"):
            half = z * np.sqrt(p * (1 - p) / n)
        lo, hi = p - half, p + half
    empty = (n == 0).ravel()
    lo, hi = np.clip(lo, 0, 1), np.clip(hi, 0, 1)
    lo[empty], hi[empty] = 0.0, 1.0
    return lo, hi


def bootstrap_matrices(
    panel: MigrationPanel,
    period: int = 1,
    *,
    weight: str = "count",
    anchor: str = "first",
    n_boot: int = 500,
    seed: int | None = 0,
    chunk: int = 32,
) -> np.ndarray:
    """Cohort matrices of ``n_boot`` loan-resampled replicates, shape ``(n_boot, S, S)``.

    Vectorised: per-loan transition counts form a sparse (S*S x loans) matrix; each chunk of
    replicates is one sparse product with the loan multiplicities (loop over chunks only).
    """
    if weight == "balance" and panel.balance is None:
        raise ValueError("weight='balance' needs a balance column")
    src, dst, _ = cohort_pairs(panel, period, anchor)
    s = panel.n_states
    n_loans = panel.n_loans
    bal = panel.balance
    w = np.ones(len(src)) if bal is None or weight == "count" else bal[src]
    pair = panel.state[src].astype(np.int64) * s + dst
    per_loan = sparse.csr_matrix((w, (pair, panel.loan[src])), shape=(s * s, n_loans))
    rng = np.random.default_rng(seed)
    absorbing = panel.states.mask(panel.states.absorbing)
    out = np.empty((n_boot, s, s))
    for b0 in range(0, n_boot, chunk):
        c = min(chunk, n_boot - b0)
        draws = rng.integers(0, n_loans, size=(c, n_loans))
        mult = np.bincount(
            (draws + (np.arange(c) * n_loans)[:, None]).ravel(), minlength=c * n_loans
        ).reshape(c, n_loans)
        counts = (per_loan @ mult.T.astype(float)).T.reshape(c, s, s)
        out[b0 : b0 + c] = normalise_counts(counts, absorbing)
    return out


def bootstrap_ci(
    panel: MigrationPanel,
    period: int = 1,
    *,
    weight: str = "count",
    anchor: str = "first",
    n_boot: int = 500,
    alpha: float = 0.05,
    seed: int | None = 0,
):
    """Percentile bootstrap bounds (resampling loans), each ``(S, S)``: ``(lower, upper)``."""
    reps = bootstrap_matrices(panel, period, weight=weight, anchor=anchor, n_boot=n_boot, seed=seed)
    lo, hi = np.quantile(reps, [alpha / 2, 1 - alpha / 2], axis=0)
    return lo, hi
