"""Transitions observed in a migration panel: cohort pairs, consecutive segments and the
row normalisation of transition counts, shared by the estimators and their intervals.

Examples
--------
>>> import numpy as np
>>> normalise_counts(np.array([[3.0, 1.0], [0.0, 0.0]]), np.array([False, True])).tolist()
[[0.75, 0.25], [0.0, 1.0]]
"""

from __future__ import annotations

import numpy as np

from .panel import MigrationPanel

ANCHORS = ("first", "calendar", "rolling")


def normalise_counts(counts: np.ndarray, absorbing: np.ndarray) -> np.ndarray:
    """Row-normalise counts ``(..., S, S)``; rows with no exposure or absorbing -> identity."""
    counts = np.asarray(counts, dtype=float)
    s = counts.shape[-1]
    tot = counts.sum(axis=-1, keepdims=True)
    eye = np.broadcast_to(np.eye(s), counts.shape)
    with np.errstate(invalid="ignore", divide="ignore"):
        m = np.where(tot > 0, counts / np.where(tot > 0, tot, 1.0), eye)
    m = np.where(absorbing[:, None], eye, m)
    return m


def cohort_pairs(panel: MigrationPanel, period: int = 1, anchor: str = "first"):
    """Transitions observed over ``period`` steps, as flat arrays.

    Returns
    -------
    src : ndarray
        Row index (into the panel arrays) of the start observation.
    dst_state : ndarray
        State position at ``t + period`` (exit state carried forward).
    dst_row : ndarray
        Row index of the end observation, or -1 when the loan had already exited.
    """
    if panel.time_kind == "continuous":
        raise ValueError("cohort estimation needs discrete times (months or periods)")
    period = int(period)
    if period < 1:
        raise ValueError(f"period must be >= 1, got {period}")
    if anchor not in ANCHORS:
        raise ValueError(f"anchor must be one of {ANCHORS}, got {anchor!r}")
    n = panel.n_rows
    empty = np.zeros(0, dtype=np.int64)
    if n == 0:
        return empty, empty, empty
    t = panel.time.astype(np.int64)
    st = panel.state.astype(np.int64)
    absorbing = panel.states.mask(panel.states.absorbing)
    tmin = int(t.min())
    span = int(t.max()) - tmin + period + 1
    key = panel.loan * span + (t - tmin)  # sorted: panel is sorted by loan, then time
    if anchor == "rolling":
        is_start = np.ones(n, dtype=bool)
    elif anchor == "first":
        is_start = (t - tmin) % period == 0
    else:
        if panel.time_kind != "month":
            raise ValueError("anchor='calendar' needs a datetime (monthly) time column")
        is_start = (t + 1) % period == 0  # quarter/year ends: Mar, Jun, Sep, Dec / Dec
    src = np.flatnonzero(is_start & ~absorbing[st])
    target = key[src] + period
    pos = np.minimum(np.searchsorted(key, target), n - 1)
    found = key[pos] == target
    ends = panel.last_row()
    last = ends[panel.loan[src]]
    carry = ~found & absorbing[st[last]] & (t[last] < t[src] + period)
    dst = np.where(found, st[pos], np.where(carry, st[last], -1))
    dst_row = np.where(found, pos, -1)
    keep = dst >= 0
    return src[keep], dst[keep], dst_row[keep]


def panel_segments(panel: MigrationPanel):
    """Consecutive observations of the same loan: (t0, t1, s0, s1) per segment."""
    same = panel.loan[1:] == panel.loan[:-1]
    k = np.flatnonzero(same)
    s0 = panel.state[k].astype(np.int64)
    absorbing = panel.states.mask(panel.states.absorbing)
    k = k[~absorbing[s0]]
    return (
        panel.time[k].astype(float),
        panel.time[k + 1].astype(float),
        panel.state[k].astype(np.int64),
        panel.state[k + 1].astype(np.int64),
    )
