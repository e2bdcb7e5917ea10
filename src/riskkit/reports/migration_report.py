"""Assembly of the portfolio-migration report from riskkit's packages.

Month-end classifications (:func:`riskkit.reports.post_loan.month_end_classification`) over the
history window make a classification history; :func:`riskkit.migration.panel_from_history`
turns it into a migration panel, :func:`riskkit.migration.cohort_matrix` estimates the monthly
count- and balance-weighted matrices (迁徙率) with confidence intervals, and
:class:`riskkit.migration.TransitionMatrix` gives the n-month matrices and lifetime PDs. The
balance, NPL-ratio, provisions and expected-loss path comes from
:func:`riskkit.migration.projection.project` on the balance-weighted matrix, and stress
scenarios from :mod:`riskkit.migration.stress` (one-factor Z shift, down-migration multiplier),
projected side by side with the baseline.

Stress scenarios are stated on an annual footing: a year's systematic factor ``Z`` (``-2``:
a year as bad as one in 44), turned into monthly matrices that compound to the year's shift
(:mod:`riskkit.migration.scenarios`), and described in words in the report's language. The
change of the NPL ratio over the horizon, and each scenario against the baseline, is split
into the part due to the non-performing balance (numerator) and the part due to the
outstanding balance (denominator: a book that runs off without new lending raises the ratio
with no new defaults), :func:`riskkit.migration.projection.ratio_change`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from ..deprecation import deprecated_alias
from ..policy import load_policy
from ..results import ReportMetrics, ReportResult

#: The classification history columns migration estimation reads.
HISTORY_COLUMNS = ("category", "outstanding_principal", "paid_off", "written_off")


def classification_history(
    book, as_of, months: int, policy=None, store=None, detected_signals: bool = False,
    columns=None,
) -> pd.DataFrame:  # fmt: skip
    """Per-loan classification at each of the ``months + 1`` month-ends up to ``as_of``
    (``columns``: only these result columns besides ``as_of`` and ``loan_id``)."""
    from .post_loan import month_end_classification, month_end_history

    as_of = pd.Timestamp(as_of).normalize()
    end = as_of if as_of.is_month_end else as_of - pd.offsets.MonthEnd(1)
    dates = [end - pd.offsets.MonthEnd(k) for k in range(months, 0, -1)] + [end]
    if not (book.loans["disbursement_date"] <= end).any():
        raise ValueError(f"no loans disbursed by {end.date()}")
    if not detected_signals:  # one pass over the loan-month panel
        return month_end_history(book, dates, policy, store, columns=columns)
    frames = []
    for d in dates:  # detected signals are derived per month-end: a loop over months
        b = book.disbursed_by(d)
        if b.n_loans == 0:
            continue
        res, _ = month_end_classification(book, d, policy, store, detected_signals)
        frames.append(res.to_frame())
    hist = pd.concat(frames, ignore_index=True)
    return hist if columns is None else hist[["as_of", "loan_id", *columns]]


@dataclass
class MigrationMetrics(ReportMetrics):
    """Key figures of the portfolio-migration report (``metrics.json``)."""

    as_of: pd.Timestamp
    history_months: int
    horizon_months: int
    n_loans: int
    transitions_observed: float
    npl_ratio_now: float
    npl_ratio_horizon: float
    npl_balance_now: float
    npl_balance_horizon: float
    provisions_now: float
    provisions_horizon: float
    outstanding_now: float
    outstanding_horizon: float
    repaid_horizon: float
    recovered_horizon: float
    written_off_horizon: float
    monthly_matrix_count: dict[str, dict[str, float]]
    #: no recovery is counted as a repayment: observed transitions from a non-performing
    #: category to ``repaid`` (0)
    npl_to_repaid_transitions: float
    lifetime_pd_normal: float
    lifetime_pd_special_mention: float
    expected_loss_horizon: float
    #: per scenario: the year's Z per year, rho, the calibrated monthly z, the fit, the text
    scenario_definitions: dict[str, dict]
    #: per scenario: ``npl_ratio_horizon``, ``provisions_horizon``, ``expected_loss_horizon``,
    #: ``outstanding_horizon``
    scenarios: dict[str, dict[str, float]]
    #: NPL-ratio change split into numerator and denominator (baseline, each scenario, each
    #: scenario against the baseline at the horizon)
    npl_change: dict[str, dict[str, float]] = field(default_factory=dict)


@dataclass
class ScenarioSpec:
    """One stress scenario of the report: its monthly matrices and its statement in words."""

    name: str
    matrices: list  # monthly TransitionMatrix, one per month of the horizon (last repeats)
    text: dict  # language -> the scenario in words
    definition: dict  # for metrics.json


@dataclass(repr=False, eq=False)
class MigrationReport(ReportResult):
    """Tables and key figures of the portfolio-migration report; ``table`` is the projected
    path (balances by category, NPL ratio, provisions and expected loss per month)."""

    as_of: pd.Timestamp
    history: pd.DataFrame | None  # None with the Dask engine (it stays with the partitions)
    count_matrix: object
    balance_matrix: object
    horizon_matrix: object
    lifetime_pd: pd.DataFrame
    table: pd.DataFrame
    scenarios: pd.DataFrame
    stressed: dict  # name -> ScenarioSpec
    decomposition: pd.DataFrame
    metrics: MigrationMetrics

    #: Deprecated name of :attr:`table` (riskkit 0.1).
    path = deprecated_alias("table")


def _down_text(v: float) -> dict:
    return {
        "en": f"down-migration probabilities x {v:g} in every month of the horizon",
        "zh": f"预测期内每个月的下迁概率均乘以 {v:g}",
    }


def _z_scenario(baseline, name, spec, horizon, policy):
    from ..migration.scenarios import Scenario, scenario_path

    pol = load_policy(policy)
    defs = pol["scenarios"]["definitions"]
    z = spec.get("z")
    if z is None:
        if name not in defs:
            raise ValueError(f"no Z given and no policy scenario named {name!r}")
        z = defs[name]["z"]
    z = [float(v) for v in (z if isinstance(z, list | tuple) else [z])]
    rho = float(spec.get("rho") if spec.get("rho") is not None else pol["scenarios"]["rho"])
    sc = Scenario(name, tuple(z))
    path = scenario_path(baseline, sc, horizon, rho)
    definition = {
        "z": z,
        "rho": rho,
        "monthly_z": [y.z_month for y in path.years],
        "max_abs_error_12m": max(y.max_abs_error for y in path.years),
        "text_en": sc.describe("en"),
        "text_zh": sc.describe("zh"),
    }
    text = {"en": sc.describe("en"), "zh": sc.describe("zh")}
    return ScenarioSpec(name, path.matrices(horizon), text, definition)


def scenario_matrices(baseline, scenarios: dict | None, horizon: int = 12, policy=None) -> dict:
    """Stress scenarios by name, as monthly matrices with their statement in words.

    Each scenario is ``{"z": Z}`` -- a year's systematic factor (``Z = -2``: a year as bad as
    one in 44), or a list of one Z per projection year; ``None`` takes the policy scenario of
    the same name (``scenarios.definitions``) -- with an optional ``rho``, turned into monthly
    matrices by :func:`riskkit.migration.scenarios.scenario_path`; or
    ``{"down_multiplier": v}``: every down-migration probability times ``v`` in every month
    (``None``: policy ``migration.down_multiplier``).
    """
    from ..errors import ProblemCollector
    from ..migration.stress import down_multiplier_stress

    pc = ProblemCollector("migration scenarios")
    out = {}
    for name, spec in (scenarios or {}).items():
        if not isinstance(spec, dict):
            pc.add("scenarios", str(name), "must be a mapping like {z: -2} or {down_multiplier: 2}")
            continue
        keys = set(spec)
        try:
            if keys <= {"z", "rho"}:
                out[name] = _z_scenario(baseline, name, spec, horizon, policy)
            elif keys == {"down_multiplier"}:
                v = spec["down_multiplier"]
                tm = down_multiplier_stress(baseline, v, policy=policy)
                v = float(load_policy(policy)["migration"]["down_multiplier"] if v is None else v)
                definition = {
                    "down_multiplier": v,
                    **{f"text_{k}": t for k, t in _down_text(v).items()},
                }
                out[name] = ScenarioSpec(name, [tm], _down_text(v), definition)
            else:
                pc.add(
                    "scenarios",
                    str(name),
                    f"unknown keys {sorted(keys)}; use z (and rho) or down_multiplier",
                )
        except (TypeError, ValueError) as e:
            pc.add("scenarios", str(name), str(e))
    pc.raise_if_any()
    return out


def _decomposition(side: pd.DataFrame, path: pd.DataFrame) -> pd.DataFrame:
    """NPL-ratio change from today to the horizon per scenario, and each scenario against the
    baseline at the horizon, split into numerator (NPL balance) and denominator (outstanding)."""
    from ..migration.projection import npl_change, ratio_change

    rows = {"baseline": npl_change(path)}
    end = path.iloc[-1]
    for name in side["npl_ratio"].columns:
        if name == "baseline":
            continue
        s_end = side.xs(name, axis=1, level=1).iloc[-1]
        s_npl = s_end["npl_ratio"] * s_end["outstanding"]
        rows[name] = ratio_change(
            path["npl_balance"].iloc[0], path["outstanding"].iloc[0], s_npl, s_end["outstanding"]
        )
        rows[f"{name} vs baseline"] = ratio_change(
            end["npl_balance"], end["outstanding"], s_npl, s_end["outstanding"]
        )
    return pd.DataFrame(rows).T


def portfolio_migration(
    book,
    as_of,
    history_months: int = 12,
    horizon_months: int = 12,
    policy=None,
    store=None,
    ci: str = "goodman",
    scenarios: dict | None = None,
    amortisation: float = 0.0,
    new_disbursements: float = 0.0,
    detected_signals: bool = False,
    engine="pandas",
) -> MigrationReport:
    """Migration matrices, lifetime PD, the balance/NPL/provisions path and stress scenarios.

    Parameters
    ----------
    book : LoanBook
    as_of : date-like
    history_months : int
        Month-ends of history used for estimation (``history_months`` monthly steps).
    horizon_months : int
        Projection horizon.
    policy, store : optional
        With ``store``, the write-off register takes written-off loans off the book.
    ci : {"goodman", "wald", "wilson"}
        Analytic confidence intervals of the monthly count matrix.
    scenarios : dict, optional
        Stress scenarios on an annual footing (see :func:`scenario_matrices`), projected
        beside the baseline.
    amortisation, new_disbursements : float
        Monthly run-off rate of live balances and new lending per month, passed to
        :func:`riskkit.migration.projection.project`.
    detected_signals : bool
        See :func:`riskkit.reports.post_loan.month_end_classification`.
    engine : {"pandas", "dask"} or riskkit.engine.Engine
        ``"dask"``: the classification history and the cohort counts of every partition in
        their own task, counts added (a tree reduction); the matrices and the projection are
        those of the pandas engine. ``history`` then stays with the partitions (None).
    """
    from ..migration.projection import project
    from ..migration.stress import compare as compare_scenarios

    whole = _migration_parts(book, as_of, history_months, policy, store, detected_signals, engine)
    pc, pb = whole.matrices(ci)
    ph = pb.power(horizon_months)
    lpd = pc.lifetime_pd(horizon_months)
    start, counts = whole.start_balance, whole.start_loans
    kw = {"amortisation": amortisation, "new_disbursements": new_disbursements, "policy": policy}
    path = project(pb, start.to_dict(), horizon_months, counts=counts.to_dict(), **kw).table
    stressed = scenario_matrices(pb, scenarios, horizon_months, policy)
    side = compare_scenarios(
        pb, {k: v.matrices for k, v in stressed.items()}, start.to_dict(), horizon_months, **kw
    )
    decomposition = _decomposition(side, path)
    metrics = _metrics(as_of, (history_months, horizon_months), whole.n_loans, pc, lpd, path, side)
    metrics.scenario_definitions = {k: v.definition for k, v in stressed.items()}
    metrics.npl_change = {
        k: {c: float(v) for c, v in row.items()} for k, row in decomposition.iterrows()
    }
    return MigrationReport(
        as_of=pd.Timestamp(as_of).normalize(),
        history=whole.history,
        count_matrix=pc,
        balance_matrix=pb,
        horizon_matrix=ph,
        lifetime_pd=lpd,
        table=path,
        scenarios=side,
        stressed=stressed,
        decomposition=decomposition,
        metrics=metrics,
    )


def _metrics(as_of, months, n_loans: int, pc, lpd, path, side) -> MigrationMetrics:
    history_months, horizon_months = months
    end = path.iloc[-1]
    sp = pc.states
    npl_rows = [sp.index(s) for s in sp.npl]
    repaid = sp.index("repaid")
    counts = pc.counts if pc.counts is not None else 0.0 * pc.matrix
    return MigrationMetrics(
        as_of=pd.Timestamp(as_of).normalize(),
        history_months=int(history_months),
        horizon_months=int(horizon_months),
        n_loans=int(n_loans),
        transitions_observed=float(counts.sum()),
        npl_ratio_now=float(path["npl_ratio"].iloc[0]),
        npl_ratio_horizon=float(end["npl_ratio"]),
        npl_balance_now=float(path["npl_balance"].iloc[0]),
        npl_balance_horizon=float(end["npl_balance"]),
        provisions_now=float(path["provisions"].iloc[0]),
        provisions_horizon=float(end["provisions"]),
        outstanding_now=float(path["outstanding"].iloc[0]),
        outstanding_horizon=float(end["outstanding"]),
        repaid_horizon=float(end["repaid"]),
        recovered_horizon=float(end["recovered"]) if "recovered" in end else 0.0,
        written_off_horizon=float(end["written_off"]),
        monthly_matrix_count=pc.to_frame().round(10).to_dict(orient="index"),
        npl_to_repaid_transitions=float(counts[npl_rows, repaid].sum()),
        lifetime_pd_normal=float(lpd.loc["normal"].iloc[-1]),
        lifetime_pd_special_mention=float(lpd.loc["special_mention"].iloc[-1]),
        expected_loss_horizon=float(end["expected_loss"]),
        scenario_definitions={},
        scenarios={
            name: {
                "npl_ratio_horizon": float(side[("npl_ratio", name)].iloc[-1]),
                "provisions_horizon": float(side[("provisions", name)].iloc[-1]),
                "expected_loss_horizon": float(side[("expected_loss", name)].iloc[-1]),
                "outstanding_horizon": float(side[("outstanding", name)].iloc[-1]),
            }
            for name in side["npl_ratio"].columns
        },
    )


@dataclass
class _MigrationPart:
    """What the migration report needs from one partition (or several, added up)."""

    by_count: Any  # CohortCounts (None for a partition without loans yet)
    by_balance: Any
    states: Any
    start_balance: pd.Series  # outstanding by category of live loans at the last month-end
    start_loans: pd.Series
    n_loans: int
    history: pd.DataFrame | None

    def __add__(self, other: _MigrationPart) -> _MigrationPart:
        if self.n_loans == 0 or other.n_loans == 0:
            return other if self.n_loans == 0 else self
        return _MigrationPart(
            self.by_count + other.by_count,
            self.by_balance + other.by_balance,
            self.states,
            self.start_balance.add(other.start_balance, fill_value=0),
            self.start_loans.add(other.start_loans, fill_value=0),
            self.n_loans + other.n_loans,
            None,
        )

    def matrices(self, ci: str):
        """The monthly count-weighted (with ``ci`` intervals) and balance-weighted matrices."""
        from ..migration.estimation import matrix_from_cohort_counts

        pc = matrix_from_cohort_counts(self.by_count, self.states, 1, "count", ci=ci)
        pb = matrix_from_cohort_counts(self.by_balance, self.states, 1, "balance")
        return pc, pb


def _migration_parts(book, as_of, months, policy, store, detected, engine) -> _MigrationPart:
    """The cohort counts of every partition (one task each), added up."""
    from ..engine import TablesSnapshot, open_engine, partitions

    eng = open_engine(engine)
    snap = eng.share(store if not eng.is_dask else TablesSnapshot.of(store))
    parts = eng.map(
        _migration_part, partitions(book, eng), as_of=as_of, months=months,
        policy=policy, store=snap, detected=detected,
    )  # fmt: skip
    whole = eng.compute(eng.reduce(parts, _MigrationPart.__add__))
    if eng is not engine:
        eng.close()
    if whole.n_loans == 0:
        end = pd.Timestamp(as_of).normalize()
        raise ValueError(f"no loans disbursed by {(end + pd.offsets.MonthEnd(0)).date()}")
    return whole


def _migration_part(part, as_of, months, policy, store, detected) -> _MigrationPart:
    """The classification history of one partition and its cohort counts."""
    from ..engine import TablesSnapshot, load
    from ..migration import panel_from_history
    from ..migration.estimation import CohortCounts, cohort_counts

    book = load(part)
    if isinstance(store, TablesSnapshot):
        store = store.restricted(book.loans["loan_id"])
    try:
        hist = classification_history(
            book, as_of, months, policy, store, detected, columns=HISTORY_COLUMNS
        )
    except ValueError:  # no loan of this partition disbursed yet
        empty = pd.Series(dtype=float)
        return _MigrationPart(None, None, None, empty, empty, 0, None)
    panel = panel_from_history(hist)
    last = hist[hist["as_of"] == hist["as_of"].max()]
    off = last["paid_off"].to_numpy(dtype=bool).copy()
    if "written_off" in last.columns:
        off |= last["written_off"].to_numpy(dtype=bool)
    live = last[~off]
    by_cat = live.groupby(live["category"].astype(str))
    return _MigrationPart(
        CohortCounts(*cohort_counts(panel, 1, weight="count")),
        CohortCounts(*cohort_counts(panel, 1, weight="balance")),
        panel.states,
        by_cat["outstanding_principal"].sum(),
        by_cat.size().astype(float),
        int(last["loan_id"].nunique()),
        hist,
    )
