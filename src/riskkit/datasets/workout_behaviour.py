"""What happens to a sample-book loan after default: collection, enforcement, recoveries.

Used month by month by :func:`riskkit.datasets.make_microloan_book` (vectorised over loans;
only the calendar months are looped over there). A loan enters **collection** (催收) once it
has missed four installments (or is three months past maturity with money owed). After six
missed installments (four months past maturity) the lender enforces, monthly with some
probability, through the channel its guarantee allows:

* guaranteed and joint-guarantee loans: the guarantor is called (``guarantor_called``); most
  guarantors pay part or all of the claim in one to six monthly payments (``source =
  "guarantor"``), the others are sued (``legal_action``);
* mortgage and pledge loans: legal action, then the collateral is sold at auction
  (``collateral_sale``) after a lag that depends on the asset (a deposit in a month or two,
  real estate in eight to twenty months) for its depreciated value less a fire-sale discount
  (``source = "collateral"``);
* credit loans: legal action, with occasional partial payments by the borrower;
* a borrower who died or went missing without an heir: the estate is claimed
  (``estate_claim``) and pays part of the claim in about half of the cases (``source =
  "estate"``).

A loan whose claim is covered closes (it is *recovered*); otherwise, once every channel is
used, recovery is **exhausted** (``exhausted``, 追偿终结) and the loan waits for write-off,
with a small monthly chance of a late recovery (账销案存、权在力催). A borrower who pays all
arrears during collection is **cured** (``cured``). Every status change is a row of the
book's ``recovery_status`` table; the write-off itself is a lender's decision recorded in the
write-off register (:mod:`riskkit.workout.register`), not here.

Examples
--------
>>> import numpy as np
>>> wo = Workout.start(3)
>>> wo.open_collection(np.array([0, 2]), t=5, day=np.array([100, 101]))
>>> wo.frame(np.array(["L1", "L2", "L3"]))["status"].tolist()
['collection', 'collection']
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..book.enums import PaymentSource, RecoveryStatus

STATUSES = tuple(RecoveryStatus.values())
SOURCES = tuple(PaymentSource.values())
_S = {s: i for i, s in enumerate(STATUSES)}
_SRC = {s: i for i, s in enumerate(SOURCES)}
#: channels of an enforcement
NONE, GUARANTOR, COLLATERAL, LEGAL, ESTATE = range(5)

#: months from enforcement to the sale of each collateral type (low, high) and the sale price
#: as a share of the appraised value (fire-sale discount, low, high)
SALE_LAG = {
    "real_estate": (8, 20),
    "machinery": (4, 10),
    "vehicle": (3, 8),
    "deposit": (1, 2),
    "receivables": (3, 8),
    "equity": (4, 10),
}
SALE_PRICE = {
    "real_estate": (0.60, 0.85),
    "machinery": (0.30, 0.60),
    "vehicle": (0.45, 0.70),
    "deposit": (1.00, 1.00),
    "receivables": (0.20, 0.70),
    "equity": (0.20, 0.60),
}
#: probability that a called guarantor pays (part of) the claim
GUARANTOR_PAYS = {"guaranteed": 0.6, "joint": 0.5}


@dataclass
class Workout:
    """Per-loan workout state (arrays of length n) and the status rows recorded so far."""

    status: np.ndarray  # int8: -1 none, else position in STATUSES
    since: np.ndarray  # month (loop index) the current collection episode began
    channel: np.ndarray
    next_m: np.ndarray  # month of the next channel payment (-1: none)
    left: np.ndarray  # channel payments still to come
    share: np.ndarray  # each channel payment as a share of the claim at enforcement
    claim0: np.ndarray  # claim when enforcement began
    end_m: np.ndarray  # month recovery is declared exhausted unless the claim is covered
    rows: list = field(default_factory=list)

    @classmethod
    def start(cls, n: int) -> Workout:
        """No loan in workout."""
        neg = np.full(n, -1, dtype=np.int64)
        return cls(
            status=np.full(n, -1, dtype=np.int8),
            since=neg.copy(),
            channel=np.zeros(n, dtype=np.int8),
            next_m=neg.copy(),
            left=np.zeros(n, dtype=np.int64),
            share=np.zeros(n),
            claim0=np.zeros(n),
            end_m=neg.copy(),
        )

    def set_status(self, idx: np.ndarray, day, status: str) -> None:
        """Record a status change for loans ``idx`` on day numbers ``day``."""
        idx = np.asarray(idx, dtype=np.int64)
        if not len(idx):
            return
        self.status[idx] = _S[status]
        day = np.broadcast_to(np.asarray(day, dtype=np.int64), idx.shape)
        self.rows.append((idx.copy(), day.copy(), _S[status]))

    def is_(self, *statuses: str) -> np.ndarray:
        """Mask of loans whose current status is one of ``statuses``."""
        return np.isin(self.status, [_S[s] for s in statuses])

    @property
    def exhausted(self) -> np.ndarray:
        return self.status == _S["exhausted"]

    @property
    def enforcing(self) -> np.ndarray:
        """Loans with an enforcement under way (a channel chosen, not yet exhausted)."""
        return (self.channel != NONE) & ~self.exhausted

    def open_collection(self, idx: np.ndarray, t: int, day) -> None:
        """Loans ``idx`` (newly in serious arrears) enter collection unless already in it."""
        idx = np.asarray(idx, dtype=np.int64)
        new = (self.status[idx] < 0) | (self.status[idx] == _S["cured"])
        idx, day = idx[new], np.broadcast_to(np.asarray(day), new.shape)[new]
        self.since[idx] = t
        self.set_status(idx, day, "collection")

    def cure(self, idx: np.ndarray, day) -> None:
        """Loans ``idx`` paid all arrears: a collection or enforcement episode ends."""
        idx = np.asarray(idx, dtype=np.int64)
        open_ = (self.status[idx] >= 0) & ~np.isin(self.status[idx], [_S["cured"], _S["exhausted"]])
        idx, day = idx[open_], np.broadcast_to(np.asarray(day), open_.shape)[open_]
        self.channel[idx] = NONE
        self.left[idx] = 0
        self.next_m[idx] = -1
        self.end_m[idx] = -1
        self.set_status(idx, day, "cured")

    def frame(self, loan_ids: np.ndarray, as_of: int | None = None) -> pd.DataFrame:
        """The ``recovery_status`` table (rows up to day ``as_of``), sorted by date and loan."""
        if self.rows:
            idx = np.concatenate([r[0] for r in self.rows])
            day = np.concatenate([r[1] for r in self.rows])
            st = np.concatenate([np.full(len(r[0]), r[2]) for r in self.rows])
        else:
            idx, day, st = (np.zeros(0, np.int64),) * 3
        if as_of is not None:
            keep = day <= as_of
            idx, day, st = idx[keep], day[keep], st[keep]
        order = np.lexsort((idx, day))
        return pd.DataFrame(
            {
                "loan_id": np.asarray(loan_ids)[idx[order]],
                "status_date": day[order].astype("datetime64[D]").astype("datetime64[ns]"),
                "status": np.asarray(STATUSES, dtype=object)[st[order]].astype(str),
            }
        )


@dataclass
class Collateral:
    """What enforcement can sell per loan: asset type and appraised value at origination."""

    ctype: np.ndarray  # str per loan ("" where none)
    value: np.ndarray  # appraised value at origination (0 where none)


def enforce(
    wo: Workout,
    r: np.random.Generator,
    idx: np.ndarray,
    t: int,
    day: int,
    *,
    gtype: np.ndarray,
    dead: np.ndarray,
    claim: np.ndarray,
    collateral: Collateral,
) -> None:
    """Start enforcement for loans ``idx`` (claim = what they owe now): choose the channel,
    draw its payments and the month recovery would be exhausted."""
    if not len(idx):
        return
    wo.claim0[idx] = claim
    g = gtype[idx]
    est = dead[idx]
    coll = ~est & np.isin(g, ["mortgage", "pledge"]) & (collateral.value[idx] > 0)
    guar = ~est & ~coll & np.isin(g, ["guaranteed", "joint"])
    legal = ~est & ~coll & ~guar
    _by_guarantor(wo, r, idx[guar], t, day, g[guar])
    _by_collateral(wo, r, idx[coll], t, day, collateral)
    _by_law(wo, r, idx[legal], t, day)
    _by_estate(wo, r, idx[est], t, day)


def _by_guarantor(wo, r, idx, t, day, g) -> None:
    n = len(idx)
    pays = r.random(n) < np.array([GUARANTOR_PAYS.get(x, 0.5) for x in g])
    wo.channel[idx] = GUARANTOR
    wo.left[idx] = np.where(pays, r.integers(1, 7, n), 0)
    wo.next_m[idx] = t + r.integers(1, 4, n)
    wo.share[idx] = np.where(pays, r.uniform(0.4, 1.05, n) / np.maximum(wo.left[idx], 1), 0.0)
    # a guarantor who pays has settled within the payments; one who refuses is sued
    wo.end_m[idx] = np.where(pays, wo.next_m[idx] + wo.left[idx] + r.integers(1, 4, n), -1)
    wo.set_status(idx, day, "guarantor_called")
    refuse = idx[~pays]
    wo.channel[refuse] = LEGAL
    wo.end_m[refuse] = t + r.integers(9, 19, len(refuse))
    wo.set_status(refuse, day + 30, "legal_action")  # sued a month later


def _by_collateral(wo, r, idx, t, day, collateral: Collateral) -> None:
    n = len(idx)
    ct = collateral.ctype[idx]
    lo = np.array([SALE_LAG[c][0] for c in ct])
    hi = np.array([SALE_LAG[c][1] for c in ct])
    p_lo = np.array([SALE_PRICE[c][0] for c in ct])
    p_hi = np.array([SALE_PRICE[c][1] for c in ct])
    sale = t + lo + (r.random(n) * (hi - lo + 1)).astype(np.int64)
    wo.channel[idx] = COLLATERAL
    wo.next_m[idx] = sale
    wo.left[idx] = 1
    # sale price as a share of the claim: value x discount / claim (capped by the claim later)
    price = collateral.value[idx] * (p_lo + r.random(n) * (p_hi - p_lo))
    wo.share[idx] = price / np.maximum(wo.claim0[idx], 1.0)
    wo.end_m[idx] = sale + r.integers(1, 5, n)
    wo.set_status(idx, day, "legal_action")


def _by_law(wo, r, idx, t, day) -> None:
    wo.channel[idx] = LEGAL
    wo.left[idx] = 0
    wo.next_m[idx] = -1
    wo.end_m[idx] = t + r.integers(9, 19, len(idx))
    wo.set_status(idx, day, "legal_action")


def _by_estate(wo, r, idx, t, day) -> None:
    n = len(idx)
    pays = r.random(n) < 0.45
    wo.channel[idx] = ESTATE
    wo.next_m[idx] = np.where(pays, t + r.integers(3, 10, n), -1)
    wo.left[idx] = pays.astype(np.int64)
    wo.share[idx] = np.where(pays, r.uniform(0.2, 0.9, n), 0.0)
    wo.end_m[idx] = np.where(pays, wo.next_m[idx] + r.integers(1, 4, n), t + r.integers(6, 13, n))
    wo.set_status(idx, day, "estate_claim")


def channel_payments(
    wo: Workout, r: np.random.Generator, t: int, month_start: int, claim_of
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Recoveries falling in month ``t``: scheduled guarantor, collateral and estate payments
    and occasional payments by sued borrowers (after exhaustion: rare late recoveries).

    ``claim_of(idx)`` gives what loans ``idx`` owe now. Returns loan positions, day numbers,
    amounts (never above the claim) and source codes (positions in :data:`SOURCES`).
    """
    due = np.flatnonzero((wo.next_m == t) & (wo.left > 0) & wo.enforcing)
    src = np.array([_SRC["borrower"], _SRC["guarantor"], _SRC["collateral"], _SRC["borrower"],
                    _SRC["estate"]])[wo.channel[due]]  # fmt: skip
    amt = wo.share[due] * wo.claim0[due]
    wo.left[due] -= 1
    wo.next_m[due] = np.where(wo.left[due] > 0, t + 1, -1)
    sale_day = month_start + r.integers(5, 26, len(due))
    # sued borrowers pay something now and then; so, rarely, do those whose recovery is over
    legal = np.flatnonzero(wo.enforcing & (wo.channel == LEGAL))
    legal = legal[r.random(len(legal)) < 0.06]
    late = np.flatnonzero(wo.exhausted)
    late = late[r.random(len(late)) < 0.015]
    extra = np.r_[legal, late]
    frac = np.r_[r.uniform(0.05, 0.3, len(legal)), r.uniform(0.02, 0.15, len(late))]
    idx = np.r_[due, extra]
    day = np.r_[sale_day, month_start + r.integers(3, 28, len(extra))]
    claim = claim_of(idx)
    amt = np.minimum(np.r_[amt, frac * claim[len(due) :]], claim)
    source = np.r_[src, np.full(len(extra), _SRC["borrower"])]
    return idx, day, amt, source


def status_after_payments(wo: Workout, t: int, day: int, closed: np.ndarray) -> None:
    """Collateral sales announced, and recovery exhausted where every channel is used."""
    sale_soon = np.flatnonzero(
        wo.enforcing & (wo.channel == COLLATERAL) & (wo.next_m == t + 1) & ~closed
    )
    wo.set_status(sale_soon, day, "collateral_sale")
    done = np.flatnonzero(wo.enforcing & (wo.end_m >= 0) & (wo.end_m <= t) & ~closed)
    wo.set_status(done, day, "exhausted")
    wo.left[done] = 0
    wo.next_m[done] = -1
