"""Expected credit loss (预期信用损失, CAS 22 / IFRS 9): staging, PD term structures from the
migration matrices, exposure from the schedules, workout LGD, discounting, weighted scenarios.

**PD term structures.** :meth:`ECLModel.fit` estimates a monthly count-weighted migration
matrix per segment (``ecl.segment_by``, default product) from a classification history; a
segment row with fewer than ``ecl.min_row_transitions`` observed transitions takes the pooled
row. Each macro scenario (:mod:`riskkit.migration.scenarios`: one systematic factor Z per year,
weights in policy) turns it into monthly matrices per projection year. A performing loan's
marginal PD in month ``m`` is the probability of first reaching a default state
(substandard or worse, recovered, written off) in month ``m``, in the chain conditional on the
loan staying on the book (the ``repaid`` exit removed and the rows renormalised: repayment is
handled by the loan's own schedule and the prepayment rate).

**Loss.** For a loan in stage 1 or 2 under scenario ``s``:

    ``ECL_s = LGD x sum_m q_s(m) x (1 - cpr)^(m-1) x EAD(m) x (1 + r/12)^-m``

over the months ``m`` of its remaining life (12-month ECL: ``m <= 12``), with ``q_s`` the
marginal PD of its segment and current category, ``cpr`` the segment's monthly prepayment
rate, ``EAD(m)`` the exposure at the start of month ``m`` from the schedule
(:mod:`riskkit.provisions.exposure`), ``r`` the loan's effective (contractual) rate and LGD
the workout LGD of its guarantee type (open workouts included, or the policy constant,
:class:`riskkit.workout.LGDResult`), at least the category's floor (``ecl.lgd_floor``:
100% for a loss loan by default, :func:`lgd_floor`). The ECL is the probability-weighted sum over scenarios.
Stage 1 carries the 12-month ECL, stage 2 the lifetime ECL; a stage-3 loan (credit-impaired)
carries ``LGD x`` its outstanding principal (PD = 1; the LGD is already discounted).
Stages: :mod:`riskkit.provisions.staging`, with the PD test comparing the annualised lifetime
PD now (weighted scenarios, current category, remaining life) with the one at origination
(baseline, normal, original term).

Vectorised over loans: the loans are sorted by segment and category once and every group's
ECL is one matrix-vector product; only segments, categories and scenarios are looped over.

Examples
--------
>>> import numpy as np
>>> from riskkit.migration import TransitionMatrix
>>> p = np.eye(8); p[0, [0, 1, 5]] = [0.9, 0.05, 0.05]; p[1, [0, 1, 2]] = [0.5, 0.3, 0.2]
>>> m = ECLModel.from_matrices({"all": TransitionMatrix(p)}, horizon_months=3)
>>> m.marginal_pd_.loc[("baseline", "all", "normal")].round(6).tolist()
[0.0, 0.010526, 0.01313]
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..categories import CATEGORY_DTYPE, Category, parse_categories
from ..policy import Policy, load_policy
from .exposure import exposure_by_month
from .staging import assign_stages

_PERFORMING = ("normal", "special_mention")
POOLED = "__pooled__"


def staying_matrix(tm) -> np.ndarray:
    """The matrix conditional on not leaving through a neutral exit (``repaid``), with the
    default states absorbing (first passage)."""
    sp = tm.states
    p = tm.matrix.copy()
    neutral = sp.mask([s for s in sp.exits if s not in sp.default])
    stay = 1.0 - p[:, neutral].sum(axis=1, keepdims=True)
    p[:, neutral] = 0.0
    p = np.divide(p, stay, out=np.zeros_like(p), where=stay > 0)
    fixed = sp.mask(sp.default) | (stay[:, 0] <= 0)  # defaults absorbing; the neutral exit
    p[fixed] = np.eye(len(sp))[fixed]  # is never reached
    return p


def marginal_pd(matrices, start: list[str]) -> np.ndarray:
    """Marginal first-default probability per start state (rows) and month (columns), along
    a sequence of monthly TransitionMatrix objects."""
    sp = matrices[0].states
    dflt = sp.mask(sp.default)
    dist = np.eye(len(sp))[[sp.index(s) for s in start]]
    cum = np.zeros((len(start), len(matrices)))
    for m, tm in enumerate(matrices):  # a loop over months of a term structure
        dist = dist @ staying_matrix(tm)
        cum[:, m] = dist[:, dflt].sum(axis=1)
    return np.diff(cum, axis=1, prepend=0.0)


def annualised(pd_: np.ndarray, months: np.ndarray) -> np.ndarray:
    """PD over ``months`` as a 12-month rate: ``1 - (1 - pd)^(12 / months)``."""
    months = np.maximum(np.asarray(months, dtype=float), 1.0)
    return 1.0 - np.power(np.clip(1.0 - np.asarray(pd_, dtype=float), 0.0, 1.0), 12.0 / months)


def _blend_rows(tm, pooled, min_rows: int):
    from ..migration.matrix import TransitionMatrix

    n = tm.counts.sum(axis=1) if tm.counts is not None else np.zeros(len(tm.states))
    thin = (n < min_rows) & ~tm.states.mask(tm.states.absorbing)
    m = np.where(thin[:, None], pooled.matrix, tm.matrix)
    out = TransitionMatrix(m, tm.states, counts=tm.counts, period=tm.period, method=tm.method)
    out.method = f"{tm.method}, pooled rows: {', '.join(tm.states.labels[i] for i in np.flatnonzero(thin)) or 'none'}"
    return out


def prepayment_rate(history: pd.DataFrame, book, by: str | None = None) -> pd.Series:
    """Monthly prepayment rate of performing loans from a classification history: among
    normal and special-mention loans on the book at a month-end whose contractual maturity
    (disbursement plus term) is more than a month away, the share paid off by the next
    month-end. By ``by`` (a history column) with an ``__all__`` entry."""
    from ..book.schedule import add_months

    h = history.sort_values(["loan_id", "as_of"], kind="stable")
    loans = book.loans.set_index("loan_id")
    ids = h["loan_id"].astype(object)
    disb = ids.map(loans["disbursement_date"]).to_numpy(dtype="datetime64[D]")
    term = ids.map(loans["term_months"]).to_numpy(dtype=np.int64)
    maturity = add_months(disb, term)
    nxt_paid = h.groupby("loan_id", sort=False)["paid_off"].shift(-1)
    nxt_date = h.groupby("loan_id", sort=False)["as_of"].shift(-1)
    on = ~h["paid_off"].to_numpy(dtype=bool)
    if "written_off" in h.columns:
        on &= ~h["written_off"].to_numpy(dtype=bool)
    perf = on & h["category"].astype(str).isin(_PERFORMING).to_numpy()
    later = nxt_date.notna().to_numpy()
    far = maturity > (h["as_of"] + pd.DateOffset(months=1)).to_numpy(dtype="datetime64[D]")
    base = perf & later & far
    prepaid = base & nxt_paid.astype("boolean").fillna(False).to_numpy(dtype=bool)
    frame = pd.DataFrame({"n": base, "k": prepaid})
    out = pd.Series({"__all__": frame["k"].sum() / max(frame["n"].sum(), 1)})
    if by is not None:
        g = frame.groupby(h[by].astype(str).to_numpy())
        out = pd.concat([g["k"].sum() / g["n"].sum().clip(lower=1), out])
    return out.astype(float)


@dataclass
class ECLResult:
    """Expected credit loss of a book as of a date.

    Attributes
    ----------
    loans : DataFrame
        One row per loan on the balance sheet: ``branch``, ``product``, ``guarantee_type``,
        ``segment``, ``category``, ``stage``, ``stage_reason``, ``ead`` (outstanding
        principal), ``lgd``, ``pd_12m``, ``pd_lifetime``, ``pd_ratio``, ``ecl_12m``,
        ``ecl_lifetime``, ``ecl`` (by stage) and ``ecl_<scenario>`` per scenario.
    table : DataFrame
        The main table: loans, exposure, ECL and coverage by stage, with a total row.
    scenarios : DataFrame
        Per scenario: weight, ECL if that scenario were certain, and its description.
    """

    as_of: pd.Timestamp
    loans: pd.DataFrame
    table: pd.DataFrame
    scenarios: pd.DataFrame
    horizon_months: int
    lgd_source: dict = field(default_factory=dict)

    @property
    def total(self) -> float:
        return float(self.loans["ecl"].sum())

    def by(self, column: str) -> pd.DataFrame:
        """Exposure and ECL by ``column`` (e.g. ``"branch"``) and stage, with totals."""
        return stage_table(self.loans, column)

    def to_frame(self) -> pd.DataFrame:
        """The per-stage table with ``stage`` as a column."""
        return self.table.reset_index()

    def __repr__(self) -> str:
        t = self.table
        parts = ", ".join(f"stage {s}={t.at[s, 'ecl']:,.0f}" for s in (1, 2, 3))
        return (
            f"ECLResult(as_of={self.as_of.date()}, loans={len(self.loans):,}, "
            f"ecl={self.total:,.2f}, {parts})"
        )

    def _repr_html_(self) -> str:
        return (
            f"<div><b>Expected credit loss 预期信用损失</b> as of {self.as_of.date()}: "
            f"{self.total:,.2f}{self.table.to_html(float_format=lambda v: f'{v:,.4f}')}"
            f"{self.scenarios.to_html(float_format=lambda v: f'{v:,.4f}')}</div>"
        ).replace("\n", "")


def stage_table(loans: pd.DataFrame, by: str | None = None) -> pd.DataFrame:
    """Loans, exposure, ECL and coverage by stage (and ``by``), with a total."""
    keys = ([by] if by else []) + ["stage"]
    g = loans.groupby(keys, observed=True)
    out = pd.DataFrame({"loans": g.size(), "ead": g["ead"].sum(), "ecl": g["ecl"].sum()})
    if by is None:
        out = out.reindex([1, 2, 3], fill_value=0)
        out.loc["total"] = out.sum()
    else:
        out = out.unstack("stage", fill_value=0)
        out[("loans", "total")] = out["loans"].sum(axis=1)
        out[("ead", "total")] = out["ead"].sum(axis=1)
        out[("ecl", "total")] = out["ecl"].sum(axis=1)
    out = out.astype({c: np.int64 for c in out.columns if c == "loans" or c[0] == "loans"})
    if by is None:
        with np.errstate(divide="ignore", invalid="ignore"):
            out["coverage"] = np.where(out["ead"] > 0, out["ecl"] / out["ead"], np.nan)
        out.index.name = "stage"
    return out


class ECLModel:
    """PD term structures per segment and scenario, fitted from a classification history.

    Parameters
    ----------
    segment_by : str, optional
        Loan column defining segments (default policy ``ecl.segment_by``).
    horizon_months : int, optional
        Lifetime horizon (default policy ``ecl.horizon_months``).
    policy : Policy, mapping or path, optional
        ``ecl``, ``scenarios`` and ``provisions`` sections.

    Attributes
    ----------
    matrices_ : dict segment -> TransitionMatrix
        Monthly count-weighted matrices (thin rows from the pooled matrix), plus ``POOLED``.
    prepayment_ : Series segment -> monthly prepayment rate
    scenarios_ : list of Scenario (those with an ECL weight)
    paths_ : dict (scenario, segment) -> ScenarioPath
    marginal_pd_ : DataFrame
        Index (scenario, segment, state), columns months 1..H.
    """

    def __init__(self, segment_by=None, horizon_months=None, policy=None):
        self.segment_by = segment_by
        self.horizon_months = horizon_months
        self.policy = policy

    def __repr__(self) -> str:
        fitted = hasattr(self, "matrices_")
        segs = [s for s in getattr(self, "matrices_", {}) if s != POOLED]
        return (
            f"ECLModel(segment_by={self._segment_by!r}, horizon_months={self._horizon}, "
            f"fitted={fitted}, segments={segs})"
        )

    @property
    def _pol(self) -> Policy:
        if "policy_" not in self.__dict__:  # loaded once (reading the YAML is not free)
            self.policy_ = load_policy(self.policy)
        return self.policy_

    @property
    def _segment_by(self) -> str:
        return self.segment_by or self._pol["ecl"]["segment_by"]

    @property
    def _horizon(self) -> int:
        return int(self.horizon_months or self._pol["ecl"]["horizon_months"])

    def fit(self, history: pd.DataFrame, book=None) -> ECLModel:
        """Estimate the segment matrices (and, with ``book``, the prepayment rates) from a
        classification history and build the scenario term structures."""
        from ..migration import cohort_matrix, panel_from_history

        by = self._segment_by
        if by not in history.columns:
            raise KeyError(f"history has no segment column {by!r}")
        pooled = cohort_matrix(panel_from_history(history), 1)
        mats = {POOLED: pooled}
        min_rows = int(self._pol["ecl"]["min_row_transitions"])
        for seg, sub in history.groupby(history[by].astype(str), sort=True):
            mats[seg] = _blend_rows(cohort_matrix(panel_from_history(sub), 1), pooled, min_rows)
        prep = self._pol["ecl"]["prepayment"]
        if prep == "estimated":
            if book is None:
                raise ValueError("ecl.prepayment 'estimated' needs the book: fit(history, book)")
            rates = prepayment_rate(history, book, by)
            rates[POOLED] = rates.pop("__all__")
        else:
            rates = pd.Series(float(prep), index=list(mats))
        return self._finish(mats, rates)

    @classmethod
    def from_matrices(
        cls, matrices: dict, prepayment=0.0, horizon_months=None, policy=None
    ) -> ECLModel:
        """A fitted model from given monthly matrices per segment (tests, benchmarks,
        institution-supplied matrices). ``prepayment``: a rate or a mapping per segment."""
        m = cls(horizon_months=horizon_months, policy=policy)
        mats = dict(matrices)
        mats.setdefault(POOLED, next(iter(matrices.values())))
        if isinstance(prepayment, dict):
            rates = pd.Series(prepayment, dtype=float).reindex(list(mats)).fillna(0.0)
        else:
            rates = pd.Series(float(prepayment), index=list(mats))
        return m._finish(mats, rates)

    def _finish(self, mats: dict, rates: pd.Series) -> ECLModel:
        from ..migration.scenarios import scenario_path, scenarios_from_policy

        pol = self._pol
        rho = float(pol["scenarios"]["rho"])
        h = self._horizon
        self.matrices_ = mats
        self.prepayment_ = rates.reindex(list(mats)).fillna(rates.get(POOLED, 0.0))
        self.scenarios_ = scenarios_from_policy(pol, ecl_only=True)
        w = np.array([s.weight for s in self.scenarios_])
        if not len(w) or abs(w.sum() - 1.0) > 1e-9:
            raise ValueError(f"ECL scenario weights must sum to 1, got {w.sum():g}")
        self.paths_ = {}
        rows: list[np.ndarray] = []
        index: list[tuple[str, str, str]] = []
        for sc in self.scenarios_:  # scenarios x segments, not loans
            for seg, tm in mats.items():
                path = scenario_path(tm, sc, h, rho)
                self.paths_[(sc.name, seg)] = path
                q = marginal_pd(path.matrices(h), list(_PERFORMING))
                rows.extend(q)
                index.extend((sc.name, seg, st) for st in _PERFORMING)
        self.marginal_pd_ = pd.DataFrame(
            np.array(rows),
            index=pd.MultiIndex.from_tuples(index, names=["scenario", "segment", "state"]),
            columns=pd.RangeIndex(1, h + 1, name="month"),
        )
        self.origination_pd_ = self._origination_pd()
        return self

    def _origination_pd(self) -> pd.DataFrame:
        """Cumulative PD from normal under the unshifted matrices (an average year), per
        segment and month (for the PD-increase test)."""
        h = self._horizon
        out = {
            seg: np.cumsum(marginal_pd([tm] * h, ["normal"])[0])
            for seg, tm in self.matrices_.items()
        }
        return pd.DataFrame(out, index=pd.RangeIndex(1, h + 1, name="month")).T

    def measure(self, book, result, lgd=None, segment_of=None, loan_pd=None) -> ECLResult:
        """ECL of every loan on the balance sheet in a classification ``result``.

        Parameters
        ----------
        book : LoanBook
            The book classified (schedules, rates, terms).
        result : ClassificationResult
        lgd : LGDResult, float or mapping guarantee type -> LGD, optional
            Default: the policy constants ``limits.lgd`` by guarantee type.
        segment_of : array, optional
            Segment per loan of ``result`` (default: its ``segment_by`` column).
        loan_pd : DataFrame, optional
            Per-loan PDs for the significant-increase test, indexed by loan_id with
            ``pd_then`` (at origination) and ``pd_now`` (e.g. the approved champion's,
            :func:`riskkit.inspection.rereview.rescore_loans`): a listed loan's PD ratio is
            ``pd_now / pd_then``. Without it (or for loans not listed) the ratio compares its
            segment's PD term structures, which moves only with the category and the
            remaining life (``pd_test`` says which).
        """
        if not hasattr(self, "marginal_pd_"):
            raise ValueError("ECLModel is not fitted: call fit(history, book) first")
        inputs = _loan_inputs(self, book, result, lgd, segment_of)
        return _compute(self, inputs, result.as_of, loan_pd)


@dataclass
class _Inputs:
    frame: pd.DataFrame  # the loans on the balance sheet, sorted by segment and category
    ead: np.ndarray  # (H, n): exposure at the start of month m of loan i
    life: np.ndarray
    rate: np.ndarray
    term: np.ndarray
    seg: np.ndarray
    state: np.ndarray
    lgd: np.ndarray
    rows: np.ndarray  # positions in the book (for the original order)
    seg_code: np.ndarray  # position of the segment in model.matrices_


def _lgd_values(lgd, gtype: pd.Series, pol: Policy) -> np.ndarray:
    """LGD per loan from an LGDResult, a mapping by guarantee type, or a number."""
    if lgd is None:
        lgd = pol["limits"]["lgd"]
    if not hasattr(lgd, "lgd_for") and not isinstance(lgd, dict):
        return np.full(len(gtype), float(lgd))
    codes, uniques = pd.factorize(gtype)
    keys = np.asarray(uniques, dtype=object)
    if hasattr(lgd, "lgd_for"):
        per = lgd.lgd_for(keys)
    else:
        per = pd.Series(keys).map(lgd).to_numpy(dtype=float)
        if np.isnan(per).any():
            raise KeyError(f"no LGD for guarantee type(s) {sorted(keys[np.isnan(per)])}")
    return np.asarray(per, dtype=float)[codes]


def lgd_floor(state: np.ndarray, policy=None) -> np.ndarray:
    """The policy floor on LGD per loan by category code (``ecl.lgd_floor``, 0 elsewhere).

    By default a loss (损失) loan carries 100% LGD: by definition it cannot be repaid after
    the guarantee, insurance and collateral are exhausted (five-category rule), which is also
    why its specific reserve is 100%; a workout average of other loans does not apply to it.

    Examples
    --------
    >>> lgd_floor(np.array([0, 3, 4])).tolist()
    [0.0, 0.0, 1.0]
    """
    floors = load_policy(policy)["ecl"]["lgd_floor"]
    per = np.zeros(len(Category))
    for cat, v in floors.items():
        per[int(Category.parse(cat))] = float(v)
    return per[np.asarray(state, dtype=np.int64)]


def _loan_positions(ix, index: pd.Index) -> np.ndarray:
    """Positions of the result's loans in the book's schedule index (fast when aligned, as a
    classification result of the book is)."""
    ids = np.asarray(ix.loan_ids)
    if len(index) == len(ids) and (index.to_numpy() == ids).all():
        return np.arange(len(ids))
    pos = pd.Index(ids).get_indexer(index)
    if (pos < 0).any():
        raise KeyError(f"loans not in the book: {list(index[pos < 0][:5])}")
    return pos


def _category_codes(cat: pd.Series) -> np.ndarray:
    if isinstance(cat.dtype, pd.CategoricalDtype) and list(cat.cat.categories) == Category.codes():
        return cat.cat.codes.to_numpy().astype(np.int64)
    return parse_categories(cat).astype(np.int64)


def _loan_inputs(model: ECLModel, book, result, lgd, segment_of) -> _Inputs:
    f = result.table
    ix = book.schedule_index
    pos = _loan_positions(ix, f.index)
    on = ~f["paid_off"].to_numpy(dtype=bool) & (f["outstanding_principal"].to_numpy() > 0)
    if "written_off" in f.columns:
        on &= ~f["written_off"].to_numpy(dtype=bool)
    known = pd.Index(list(model.matrices_))
    raw = segment_of if segment_of is not None else f[model._segment_by]
    codes, uniques = pd.factorize(pd.Series(np.asarray(raw) if segment_of is not None else raw))
    per = known.get_indexer(pd.Index(uniques).astype(str))
    per = np.where(per >= 0, per, known.get_loc(POOLED))
    seg_code = per[codes][on]
    state = _category_codes(f["category"])[on]
    order = np.lexsort((state, seg_code))
    seg_code = seg_code[order]
    keep = [c for c in ("branch", "product", "guarantee_type") if c in f.columns]
    fr = f[keep + ["category", "outstanding_principal", "days_past_due"]][on].iloc[order]
    rows = pos[on][order]
    h = model._horizon
    ead, life = exposure_by_month(ix, result.as_of, fr["outstanding_principal"].to_numpy(), h, rows)
    loans = book.loans  # its rows are in the schedule index's order
    return _Inputs(
        frame=fr,
        ead=ead,
        life=life,
        rate=loans["annual_rate"].to_numpy(dtype=float)[rows],
        term=loans["term_months"].to_numpy(dtype=np.int64)[rows],
        seg=known.to_numpy()[seg_code],
        state=state[order],
        lgd=np.maximum(
            _lgd_values(lgd, fr["guarantee_type"], model._pol),
            lgd_floor(state[order], model._pol),
        ),
        rows=rows,
        seg_code=seg_code,
    )


def _weights(model: ECLModel, x: _Inputs) -> np.ndarray:
    """``(1 - cpr)^(m-1) x EAD(m) x (1 + r/12)^-m`` within the remaining life, (H, n)."""
    h = model._horizon
    m = np.arange(1, h + 1, dtype=float)
    cpr = model.prepayment_.to_numpy(dtype=float)[x.seg_code]
    # one exponent: -m log(1 + r/12) + (m - 1) log(1 - cpr)
    lr = -np.log1p(x.rate / 12.0)
    lp = np.log1p(-np.minimum(cpr, 0.999999))
    factor = np.multiply.outer(m, lr + lp)
    factor -= lp[None, :]
    np.exp(factor, out=factor)
    factor[m[:, None] > x.life[None, :]] = 0.0
    w = x.ead  # updated in place: the exposure profile is not needed afterwards
    w *= factor
    return w


def _groups(x: _Inputs):
    """Contiguous (segment, state) runs of the sorted loans (performing states only)."""
    key = x.seg_code.astype(np.int64) * 8 + x.state
    starts = np.flatnonzero(np.r_[True, key[1:] != key[:-1]])
    ends = np.r_[starts[1:], len(key)]
    for a, b in zip(starts, ends, strict=True):
        if x.state[a] < len(_PERFORMING):
            yield x.seg[a], _PERFORMING[x.state[a]], a, b


def _scenario_ecl(model: ECLModel, x: _Inputs, w: np.ndarray, name: str):
    """12-month and lifetime discounted expected loss per unit LGD, and PDs, for one scenario."""
    n = len(x.seg)
    e12, elife, pd12, pdl = (np.zeros(n) for _ in range(4))
    q_all = model.marginal_pd_.loc[name]
    for seg, st, a, b in _groups(x):  # groups, not loans
        q = q_all.loc[(seg, st)].to_numpy()
        elife[a:b] = q @ w[:, a:b]
        e12[a:b] = q[:12] @ w[:12, a:b]
        cq = np.cumsum(q)
        life = x.life[a:b]
        pdl[a:b] = cq[life - 1]
        pd12[a:b] = cq[np.minimum(life, 12) - 1]
    return e12, elife, pd12, pdl


def _pd_ratio(model: ECLModel, x: _Inputs, pdl: np.ndarray, loan_pd) -> tuple:
    """The PD ratio of the significant-increase test per loan, and its source."""
    h = model._horizon
    orig = model.origination_pd_.reindex(list(model.matrices_)).to_numpy()
    pd_orig = orig[x.seg_code, np.clip(x.term, 1, h) - 1]
    ratio = annualised(pdl, x.life) / np.maximum(annualised(pd_orig, x.term), 1e-12)
    source = np.full(len(ratio), "segment", dtype=object)
    if loan_pd is not None and len(loan_pd):
        lp = loan_pd.reindex(x.frame.index)
        then, now = lp["pd_then"].to_numpy(dtype=float), lp["pd_now"].to_numpy(dtype=float)
        ok = np.isfinite(then) & np.isfinite(now) & (then > 0)
        ratio = np.where(ok, now / np.where(ok, then, 1.0), ratio)
        source[ok] = "loan"
    npl = x.state >= len(_PERFORMING)
    return np.where(npl, np.nan, ratio), np.where(npl, "", source)


def _compute(model: ECLModel, x: _Inputs, as_of, loan_pd=None) -> ECLResult:
    pol = model._pol
    w = _weights(model, x)
    n = len(x.seg)
    tot = {k: np.zeros(n) for k in ("e12", "elife", "pd12", "pdl")}
    per_scen = {}
    for sc in model.scenarios_:
        e12, elife, pd12, pdl = _scenario_ecl(model, x, w, sc.name)
        for k, v in zip(("e12", "elife", "pd12", "pdl"), (e12, elife, pd12, pdl), strict=True):
            tot[k] += sc.weight * v
        per_scen[sc.name] = (e12, elife)
    f = x.frame
    h = model._horizon
    ratio, pd_test = _pd_ratio(model, x, tot["pdl"], loan_pd)
    npl = x.state >= len(_PERFORMING)
    stage, reason = assign_stages(
        f["category"].astype(str).to_numpy(), f["days_past_due"], ratio, pol
    )
    ead0 = f["outstanding_principal"].to_numpy(dtype=float)

    def by_stage(e12, elife):
        return x.lgd * np.where(stage == 1, e12, np.where(stage == 2, elife, ead0))

    loans = pd.DataFrame(
        {
            "branch": f["branch"].array if "branch" in f else None,
            "product": f["product"].array if "product" in f else None,
            "guarantee_type": f["guarantee_type"].array,
            "segment": pd.Categorical.from_codes(x.seg_code, categories=list(model.matrices_)),
            "category": pd.Categorical.from_codes(x.state, dtype=CATEGORY_DTYPE),
            "days_past_due": f["days_past_due"].array,
            "stage": stage,
            "stage_reason": reason,
            "remaining_months": x.life,
            "ead": ead0,
            "lgd": x.lgd,
            "pd_12m": np.where(npl, 1.0, tot["pd12"]),
            "pd_lifetime": np.where(npl, 1.0, tot["pdl"]),
            "pd_ratio": ratio,
            "pd_test": pd_test,
            "ecl_12m": np.where(npl, x.lgd * ead0, x.lgd * tot["e12"]),
            "ecl_lifetime": np.where(npl, x.lgd * ead0, x.lgd * tot["elife"]),
            "ecl": by_stage(tot["e12"], tot["elife"]),
        },
        index=f.index,
    )
    for name, (e12, elife) in per_scen.items():
        loans[f"ecl_{name}"] = by_stage(e12, elife)
    # back to the classification's order of loans
    loans = loans.iloc[np.argsort(x.rows, kind="stable")]
    scen = pd.DataFrame(
        {
            "weight": [s.weight for s in model.scenarios_],
            "z": [list(s.z) for s in model.scenarios_],
            "ecl": [float(loans[f"ecl_{s.name}"].sum()) for s in model.scenarios_],
            "description": [s.describe() for s in model.scenarios_],
        },
        index=pd.Index([s.name for s in model.scenarios_], name="scenario"),
    )
    return ECLResult(
        as_of=pd.Timestamp(as_of),
        loans=loans,
        table=stage_table(loans),
        scenarios=scen,
        horizon_months=h,
    )
