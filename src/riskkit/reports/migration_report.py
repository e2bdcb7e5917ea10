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
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from ..deprecation import deprecated_alias
from ..results import ReportMetrics, ReportResult


def classification_history(
    book, as_of, months: int, policy=None, store=None, detected_signals: bool = False
) -> pd.DataFrame:
    """Per-loan classification at each of the ``months + 1`` month-ends up to ``as_of``."""
    from .post_loan import month_end_classification

    as_of = pd.Timestamp(as_of).normalize()
    end = as_of if as_of.is_month_end else as_of - pd.offsets.MonthEnd(1)
    dates = [end - pd.offsets.MonthEnd(k) for k in range(months, 0, -1)] + [end]
    frames = []
    for d in dates:  # a loop over months, not loans
        b = book.disbursed_by(d)
        if b.n_loans == 0:
            continue
        res, _ = month_end_classification(book, d, policy, store, detected_signals)
        frames.append(res.to_frame())
    if not frames:
        raise ValueError(f"no loans disbursed by {end.date()}")
    return pd.concat(frames, ignore_index=True)


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
    provisions_now: float
    provisions_horizon: float
    outstanding_now: float
    outstanding_horizon: float
    monthly_matrix_count: dict[str, dict[str, float]]
    lifetime_pd_normal: float
    lifetime_pd_special_mention: float
    expected_loss_horizon: float
    #: what each stressed monthly matrix is (e.g. ``"bsf(z=-2, rho=0.1)"``); it applies in
    #: every month of the horizon
    scenario_definitions: dict[str, str]
    #: per scenario: ``npl_ratio_horizon``, ``provisions_horizon``, ``expected_loss_horizon``
    scenarios: dict[str, dict[str, float]]


@dataclass(repr=False, eq=False)
class MigrationReport(ReportResult):
    """Tables and key figures of the portfolio-migration report; ``table`` is the projected
    path (balances by category, NPL ratio, provisions and expected loss per month)."""

    as_of: pd.Timestamp
    history: pd.DataFrame
    count_matrix: object
    balance_matrix: object
    horizon_matrix: object
    lifetime_pd: pd.DataFrame
    table: pd.DataFrame
    scenarios: pd.DataFrame
    stressed: dict
    metrics: MigrationMetrics

    #: Deprecated name of :attr:`table` (riskkit 0.1).
    path = deprecated_alias("table")


def scenario_matrices(baseline, scenarios: dict | None, policy=None) -> dict:
    """Stressed matrices by scenario name, through :mod:`riskkit.migration.stress`.

    Each scenario is ``{"z": value[, "rho": value]}`` (Belkin-Suchower-Forest one-factor
    shift) or ``{"down_multiplier": value}`` (down-migration probabilities times the value);
    ``None`` values take the policy's ``migration`` defaults.
    """
    from ..errors import ProblemCollector
    from ..migration.stress import bsf_stress, down_multiplier_stress

    pc = ProblemCollector("migration scenarios")
    out = {}
    for name, spec in (scenarios or {}).items():
        if not isinstance(spec, dict) or not spec:
            pc.add("scenarios", str(name), "must be a mapping like {z: -2} or {down_multiplier: 2}")
            continue
        keys = set(spec)
        try:
            if keys <= {"z", "rho"} and "z" in keys:
                z, rho = spec.get("z"), spec.get("rho")
                out[name] = bsf_stress(
                    baseline,
                    None if z is None else float(z),
                    None if rho is None else float(rho),
                    policy=policy,
                )
            elif keys == {"down_multiplier"}:
                v = spec["down_multiplier"]
                out[name] = down_multiplier_stress(
                    baseline, None if v is None else v, policy=policy
                )
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
) -> MigrationReport:
    """Migration matrices, lifetime PD and the balance/NPL/provisions path.

    Parameters
    ----------
    book : LoanBook
    as_of : date-like
    history_months : int
        Month-ends of history used for estimation (``history_months`` monthly steps).
    horizon_months : int
        Projection horizon.
    policy, store : optional
    ci : {"goodman", "wald", "wilson"}
        Analytic confidence intervals of the monthly count matrix.
    scenarios : dict, optional
        Stress scenarios (see :func:`scenario_matrices`), projected beside the baseline.
    amortisation, new_disbursements : float
        Monthly run-off rate of live balances and new lending per month, passed to
        :func:`riskkit.migration.projection.project`.
    detected_signals : bool
        See :func:`riskkit.reports.post_loan.month_end_classification`.
    """
    from ..migration import cohort_matrix, panel_from_history
    from ..migration.projection import project
    from ..migration.stress import compare as compare_scenarios

    hist = classification_history(book, as_of, history_months, policy, store, detected_signals)
    panel = panel_from_history(hist)
    pc = cohort_matrix(panel, 1, weight="count", ci=ci)
    pb = cohort_matrix(panel, 1, weight="balance")
    ph = pb.power(horizon_months)
    lpd = pc.lifetime_pd(horizon_months)
    last = hist[hist["as_of"] == hist["as_of"].max()]
    live = last[~last["paid_off"].to_numpy(dtype=bool)]
    start = live.groupby(live["category"].astype(str))["outstanding_principal"].sum()
    counts = live.groupby(live["category"].astype(str)).size().astype(float)
    kw = {"amortisation": amortisation, "new_disbursements": new_disbursements, "policy": policy}
    path = project(pb, start.to_dict(), horizon_months, counts=counts.to_dict(), **kw).table
    stressed = scenario_matrices(pb, scenarios, policy)
    side = compare_scenarios(pb, stressed, start.to_dict(), horizon_months, **kw)
    end = path.iloc[-1]
    metrics = MigrationMetrics(
        as_of=pd.Timestamp(as_of).normalize(),
        history_months=int(history_months),
        horizon_months=int(horizon_months),
        n_loans=int(last["loan_id"].nunique()),
        transitions_observed=float(pc.counts.sum()) if pc.counts is not None else 0.0,
        npl_ratio_now=float(path["npl_ratio"].iloc[0]),
        npl_ratio_horizon=float(end["npl_ratio"]),
        provisions_now=float(path["provisions"].iloc[0]),
        provisions_horizon=float(end["provisions"]),
        outstanding_now=float(path["outstanding"].iloc[0]),
        outstanding_horizon=float(end["outstanding"]),
        monthly_matrix_count=pc.to_frame().round(10).to_dict(orient="index"),
        lifetime_pd_normal=float(lpd.loc["normal"].iloc[-1]),
        lifetime_pd_special_mention=float(lpd.loc["special_mention"].iloc[-1]),
        expected_loss_horizon=float(end["expected_loss"]),
        # what each stressed monthly matrix is (e.g. "bsf(z=-2, rho=0.1)"): it applies in every
        # month of the horizon
        scenario_definitions={name: tm.method for name, tm in stressed.items()},
        scenarios={
            name: {
                "npl_ratio_horizon": float(side[("npl_ratio", name)].iloc[-1]),
                "provisions_horizon": float(side[("provisions", name)].iloc[-1]),
                "expected_loss_horizon": float(side[("expected_loss", name)].iloc[-1]),
            }
            for name in side["npl_ratio"].columns
        },
    )
    return MigrationReport(
        as_of=pd.Timestamp(as_of).normalize(),
        history=hist,
        count_matrix=pc,
        balance_matrix=pb,
        horizon_matrix=ph,
        lifetime_pd=lpd,
        table=path,
        scenarios=side,
        stressed=stressed,
        metrics=metrics,
    )
