"""Assembly of the score-calibration and model-monitoring reports from :mod:`riskkit.scoring`.

Binning, the scorecard, PD calibration, the master scale and every metric come from
:mod:`riskkit.scoring`; this module splits the sample, calls them and gathers tables and key
figures for the notebooks.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..deprecation import deprecated_alias
from ..errors import ProblemCollector
from ..policy import load_policy
from ..results import ReportMetrics, ReportResult
from ..scoring.sample import feature_columns


def _sample_of(book, engine, kw: dict) -> pd.DataFrame:
    """The application sample of ``book`` on ``engine`` (one task per partition), in loan-id
    order with either engine (so the split and the scorecard are the same); the outcome counts
    of the partitions added up."""
    from ..engine import load, open_engine, partitions
    from ..scoring import application_sample

    eng = open_engine(engine)

    def one(part):
        return application_sample(load(part), **kw)

    parts = eng.compute(eng.apply(lambda *p: list(p), *eng.map(one, partitions(book, eng))))
    if eng is not engine:
        eng.close()
    out = pd.concat(parts).sort_index(kind="stable") if len(parts) > 1 else parts[0]
    out = out.sort_index(kind="stable")
    out.attrs = dict(parts[0].attrs)
    if "outcome_counts" in out.attrs:
        counts = [p.attrs["outcome_counts"] for p in parts]
        out.attrs["outcome_counts"] = {k: sum(c.get(k, 0) for c in counts) for k in counts[0]}
    return out


def load_scoring_data(
    source: str,
    store=None,
    horizon_months: int | None = None,
    data_file=None,
    target: str | None = None,
    bad_value: str | None = None,
    date_column: str | None = None,
    bad_missed_periods: int | None = None,
    keep_excluded: bool = False,
    policy=None,
    book=None,
    engine="pandas",
):
    """``(X, y, dates)`` for a data source.

    ``book`` (a LoanBook or partitioned book) replaces the store's for ``"sample_book"``;
    with ``engine="dask"`` the application sample of every partition is built in its own task
    (rows in loan-id order with either engine, so the split and the scorecard are the same).

    ``source``: ``"sample_book"`` (application sample of the stored book,
    :func:`riskkit.scoring.application_sample` with ``horizon_months``; target ``bad``),
    ``"german_credit"`` (:func:`riskkit.datasets.load_german_credit`; target
    ``creditability`` = ``bad``) or ``"file"`` (CSV or Parquet ``data_file`` with the
    ``target`` column; a row is bad where it equals ``bad_value``, default ``"1"``).
    ``dates`` (from ``date_column``, else the first date column, else None) orders the
    monitoring periods. Identifier and PII columns never become features. For the sample
    book the outcome follows the policy's definition (:class:`riskkit.scoring.sample.
    OutcomeDefinition`; ``horizon_months`` and ``bad_missed_periods`` override it):
    ``X.attrs["outcome_counts"]`` counts good, bad, indeterminate and immature applications,
    ``X.attrs["outcome_definition"]`` describes it, and with ``keep_excluded`` every
    application is returned with ``y`` missing (NaN) where the outcome is not known.
    """
    df, target, bad_value, outcome_cutoff = _read_source(
        source, store, horizon_months, data_file, target, bad_value, date_column,
        bad_missed_periods, keep_excluded, policy, book, engine,
    )  # fmt: skip
    pc = ProblemCollector(f"scoring data ({source})")
    if target not in df.columns:
        pc.add("sample", target, f"target column missing; columns: {list(df.columns)}")
    if date_column and date_column not in df.columns:
        pc.add("sample", date_column, "date column missing")
    pc.raise_if_any()
    known = None
    if keep_excluded and "outcome" in df.columns:  # sample book: outcome not known for all
        known = df["outcome"].isin(["good", "bad"]).to_numpy()
    raw = df[target] if known is None else df[target].fillna(0)
    missing = raw.isna().to_numpy()
    ids = df["loan_id"] if "loan_id" in df.columns else pd.Series(df.index)
    # a row without an outcome is neither good nor bad: an error, never counted as good
    pc.check("sample", target, missing, ids, "missing target value")
    if raw.dtype.kind in "biuf":
        try:
            bad_num = float(bad_value)
        except ValueError:
            bad_num = None
            pc.add("sample", target, f"bad value {bad_value!r} is not a number like the column")
        y = (raw.to_numpy(dtype=float) == bad_num).astype(int) if bad_num is not None else None
        values = raw
    else:
        values = raw.astype(str)
        y = (values == str(bad_value)).to_numpy().astype(int)
    pc.raise_if_any()
    assert y is not None  # a bad value that is not a number was reported above
    if y.sum() in (0, len(y)):
        pc.add(
            "sample",
            target,
            f"no row (or every row) equals the bad value {bad_value!r}; "
            f"values seen: {sorted(values.unique())[:10]}",
        )
    pc.raise_if_any()
    if date_column:
        dates = df[date_column]
    else:
        date_cols = [c for c in df.columns if pd.api.types.is_datetime64_any_dtype(df[c])]
        dates = df[date_cols[0]] if date_cols else None
    X = df[feature_columns(df, target, exclude=[date_column] if date_column else [])]
    X.attrs.update(df.attrs)
    X.attrs["outcome_cutoff"] = outcome_cutoff
    if known is not None:
        y = np.where(known, y, np.nan)
    return X, y, dates


def _read_source(source, store, horizon_months, data_file, target, bad_value, date_column,
                 bad_missed_periods, keep_excluded, policy, book=None, engine="pandas"):  # fmt: skip
    """The raw sample of a data source, its target column, bad value and outcome cut-off."""
    if source == "sample_book":
        book = book if book is not None else store.load_book(compact=True)
        kw = {"horizon_months": horizon_months, "bad_missed": bad_missed_periods,
              "policy": policy, "keep_excluded": keep_excluded}  # fmt: skip
        df = _sample_of(book, engine, kw)
        return df, target or "bad", "1" if bad_value is None else bad_value, book.as_of_date
    if source == "german_credit":
        from .. import datasets

        return datasets.load_german_credit(), target or "creditability", bad_value or "bad", None
    if source == "file":
        return _read_file(data_file, date_column), target or "bad", bad_value or "1", None
    raise ValueError(
        f"data_source must be 'sample_book', 'german_credit' or 'file', got {source!r}"
    )


def _read_file(data_file, date_column) -> pd.DataFrame:
    from pathlib import Path

    if not data_file:
        raise ValueError("data_source 'file' needs the data_file parameter")
    path = Path(data_file)
    df = pd.read_parquet(path) if path.suffix.lower() in (".parquet", ".pq") else pd.read_csv(path)
    if date_column and date_column in df.columns:
        df[date_column] = pd.to_datetime(df[date_column], format="ISO8601")
    return df


@dataclass
class CalibrationMetrics(ReportMetrics):
    """Key figures of the score-calibration report (``metrics.json``); the out-of-time ones
    are None for a sample without dates."""

    n_train: int
    n_test: int
    bad_rate: float
    n_features: int
    features: list[str]
    auc_train: float
    auc_test: float
    auc_test_lower: float
    auc_test_upper: float
    gini_test: float
    ks_test: float
    ks_test_lower: float
    ks_test_upper: float
    score_mean_test: float
    pd_mean_test: float
    grades_rejected: int
    rules_passed: bool
    development_start: pd.Timestamp | None = None
    development_end: pd.Timestamp | None = None
    n_oot: int | None = None
    bad_rate_oot: float | None = None
    auc_oot: float | None = None
    auc_oot_lower: float | None = None
    auc_oot_upper: float | None = None
    ks_oot: float | None = None
    ks_oot_lower: float | None = None
    ks_oot_upper: float | None = None


@dataclass(repr=False, eq=False)
class ScoreCalibration(ReportResult):
    """A fitted scorecard with its validation tables (see :func:`calibrate_scorecard`);
    ``table`` is the scorecard's points table, ``rules`` the model rules' report."""

    scorecard: object
    master_scale: object
    iv: pd.Series
    table: pd.DataFrame
    gains: pd.DataFrame
    calibration: pd.DataFrame
    grades: pd.DataFrame
    scores_test: np.ndarray
    y_test: np.ndarray
    metrics: CalibrationMetrics
    development_window: tuple | None = None
    rules: pd.DataFrame | None = None

    #: Deprecated name of :attr:`table` (riskkit 0.1).
    points = deprecated_alias("table")


def development_split(dates, holdout_months: int):
    """``(in_window, development_window)``: applications up to ``holdout_months`` before the
    last dated one form the development window; later ones are out of time."""
    d = pd.to_datetime(pd.Series(np.asarray(dates)))
    end = d.max() - pd.DateOffset(months=int(holdout_months))
    inside = (d <= end).to_numpy()
    if inside.sum() == 0 or inside.all():
        raise ValueError(
            f"holdout_months={holdout_months} leaves no development or no out-of-time "
            f"applications between {d.min().date()} and {d.max().date()}"
        )
    return inside, (d[inside].min().normalize(), end.normalize())


def calibrate_scorecard(
    X: pd.DataFrame,
    y,
    *,
    dates=None,
    holdout_months: int = 6,
    test_share: float = 0.3,
    seed: int = 0,
    max_n_bins: int | None = 6,
    min_bin_share: float = 0.05,
    monotonic_trend: str = "auto",
    min_iv: float = 0.02,
    base_score=None,
    base_odds=None,
    pdo=None,
    target_rate: float | None = None,
    policy=None,
) -> ScoreCalibration:
    """Fit and validate a scorecard under the model rules on a stratified train/test split of
    the development window (with ``dates``: all but the last ``holdout_months`` months, which
    are scored out of time).

    Returns AUC/Gini/KS (DeLong and bootstrap intervals) in time and out of time, the gains
    table, the calibration curve, the per-grade tests (master scale) on the test sample and the
    model rules' report. The PDs tested are the scorecard's own; with ``target_rate`` the
    scorecard is first recalibrated to it (:meth:`~riskkit.scoring.Scorecard.recalibrated`
    on the fitting sample), so the registered model carries the long-run rate.
    """
    from sklearn.model_selection import train_test_split

    y = np.asarray(y)
    _check_sample(X, y)
    window, inside = None, np.ones(len(y), dtype=bool)
    if dates is not None:
        inside, window = development_split(dates, holdout_months)
    Xd, yd = X[inside], y[inside]
    X_tr, X_te, y_tr, y_te = train_test_split(
        Xd, yd, test_size=test_share, random_state=seed, stratify=yd
    )
    sc = _fit_scorecard(X_tr, y_tr, max_n_bins, min_bin_share, monotonic_trend, min_iv,
                        base_score, base_odds, pdo, policy)  # fmt: skip
    if target_rate is not None:  # the registered model carries the long-run rate itself
        sc = sc.recalibrated(X_tr, target_rate)
    cal = _validate(sc, X_tr, y_tr, X_te, y_te, policy, float(np.mean(y)))
    if window is not None:
        cal.development_window = window
        for k, v in _out_of_time(sc, X[~inside], y[~inside], window).items():
            setattr(cal.metrics, k, v)
    return cal


def _check_sample(X, y) -> None:
    pc = ProblemCollector("scoring sample")
    if len(X) != len(y):
        pc.add("sample", "target", f"{len(y)} targets for {len(X)} rows")
    elif len(np.unique(y)) != 2:
        pc.add("sample", "target", f"needs both good and bad rows, got {np.unique(y).tolist()}")
    pc.raise_if_any()


def _fit_scorecard(X, y, max_n_bins, min_bin_share, monotonic_trend, min_iv, base_score,
                   base_odds, pdo, policy):  # fmt: skip
    from ..scoring import Scorecard, WoETransformer

    binning = WoETransformer(
        max_n_bins=max_n_bins,
        min_bin_share=min_bin_share,
        monotonic_trend=monotonic_trend,
        min_iv=min_iv,
    )
    return Scorecard(
        binning=binning, base_score=base_score, base_odds=base_odds, pdo=pdo, policy=policy
    ).fit(X, y)


def _validate(sc, X_tr, y_tr, X_te, y_te, policy, bad_rate) -> ScoreCalibration:
    """Tables and key figures of ``sc`` on the held-out sample; the PDs are the scorecard's
    own (the PDs the registry serves to decisions and monitoring)."""
    from ..scoring.calibration import MasterScale
    from ..scoring.metrics import auc, auc_ci, calibration_curve, gains_table, grade_tests, ks_ci

    s_tr, s_te = sc.credit_score(X_tr), sc.credit_score(X_te)
    pd_te = sc.predict_proba(X_te)[:, 1]
    ms = MasterScale(policy=policy)
    grades = _grade_order(grade_tests(ms.assign(pd_te), y_te, pd_te), ms)
    a = auc_ci(y_te, s_te, higher_is_bad=False)
    k = ks_ci(y_te, s_te, higher_is_bad=False)
    metrics = CalibrationMetrics(
        n_train=int(len(y_tr)),
        n_test=int(len(y_te)),
        bad_rate=bad_rate,
        n_features=int(len(sc.features_)),
        features=list(sc.features_),
        auc_train=auc(y_tr, s_tr, higher_is_bad=False),
        auc_test=a["auc"],
        auc_test_lower=a["lower"],
        auc_test_upper=a["upper"],
        gini_test=2 * a["auc"] - 1,
        ks_test=k["ks"],
        ks_test_lower=k["lower"],
        ks_test_upper=k["upper"],
        score_mean_test=float(np.mean(s_te)),
        pd_mean_test=float(np.mean(pd_te)),
        grades_rejected=int(grades["rejected"].sum()),
        rules_passed=bool(sc.validation_ is None or sc.validation_.passed),
    )
    return ScoreCalibration(
        scorecard=sc,
        master_scale=ms,
        iv=sc.binning_.iv_,
        table=sc.points_table(),
        gains=gains_table(y_te, s_te, n_bands=10, higher_is_bad=False),
        calibration=calibration_curve(y_te, pd_te, n_bins=10),
        grades=grades,
        scores_test=s_te,
        y_test=y_te,
        metrics=metrics,
        rules=None if sc.validation_ is None else sc.validation_.table,
    )


def _out_of_time(sc, X, y, window) -> dict:
    from ..scoring.metrics import auc_ci, ks_ci

    s = sc.credit_score(X)
    a = auc_ci(y, s, higher_is_bad=False)
    k = ks_ci(y, s, higher_is_bad=False)
    return {
        "development_start": window[0],
        "development_end": window[1],
        "n_oot": int(len(y)),
        "bad_rate_oot": float(np.mean(y)),
        "auc_oot": a["auc"],
        "auc_oot_lower": a["lower"],
        "auc_oot_upper": a["upper"],
        "ks_oot": k["ks"],
        "ks_oot_lower": k["lower"],
        "ks_oot_upper": k["upper"],
    }


def _grade_order(grades: pd.DataFrame, ms) -> pd.DataFrame:
    order = {g: i for i, g in enumerate(ms.labels)}
    return grades.sort_values("grade", key=lambda s: s.map(order)).reset_index(drop=True)


def register_draft(store, cal: ScoreCalibration, *, author: str, name="application_scorecard",
                   use="application", description=""):  # fmt: skip
    """Register the calibrated scorecard as a draft in the model registry of ``store``
    (:class:`riskkit.scoring.ModelRegistry`); None when the sample has no dates (no
    development window to record)."""
    from ..scoring import ModelRegistry

    if cal.development_window is None:
        return None
    keep = ("auc_test", "auc_test_lower", "auc_test_upper", "ks_test", "auc_oot", "n_train")
    metrics = {k: cal.metrics[k] for k in keep if cal.metrics[k] is not None}
    return ModelRegistry(store).register(
        cal.scorecard,
        name,
        use=use,
        development_window=cal.development_window,
        author=author,
        description=description,
        metrics=metrics,
    )


def grade_scale_table(master_scale, scorecard=None) -> pd.DataFrame:
    """The master scale's grades with PD and score bands; the open edges (PD 0 at the best
    grade, PD 1 at the worst) have no finite score and are shown as +inf / -inf instead of
    the score of a PD rounded to the float limits (e.g. 20419 / -573)."""
    t = master_scale.table(scorecard).copy()
    if "score_upper" in t.columns:
        t["score_upper"] = t["score_upper"].where(t["pd_lower"] > 0, np.inf)
        t["score_lower"] = t["score_lower"].where(t["pd_upper"] < 1, -np.inf)
    return t


def find_scorecard(scorecard_path=None, output_dir=None, store=None, use="application"):
    """The scorecard to monitor and how reports name it: ``(scorecard, label, window)``.

    ``scorecard_path``: a scorecard JSON outside the registry (label = file name, no window).
    Otherwise the approved champion of ``use`` in the model registry of ``store``
    (:meth:`riskkit.scoring.ModelRegistry.champion`), with its version and development window.
    """
    from pathlib import Path

    from ..scoring import ModelRegistry, Scorecard

    if scorecard_path:
        path = Path(scorecard_path)
        if not path.exists():
            raise FileNotFoundError(f"no scorecard at {path}")
        return Scorecard.from_json(path.read_text(encoding="utf-8")), path.name, None
    champion = ModelRegistry(store).champion(use)
    window = (champion.development_start, champion.development_end)
    return champion.scorecard(), champion.label, window


@dataclass
class MonitoringMetrics(ReportMetrics):
    """Key figures of the model-monitoring report (``metrics.json``)."""

    periods: list[str]
    n: int
    n_with_outcome: int
    n_reference: int
    reference_auc: float
    auc_oot: float
    auc_oot_lower: float
    auc_oot_upper: float
    ks_oot: float
    ks_oot_lower: float
    ks_oot_upper: float
    latest_period: str
    latest_outcome_period: str | None
    latest_application_date: pd.Timestamp
    max_psi: float
    psi_monitor: float
    psi_shifted: float
    max_csi: float
    psi_by_period: dict[str, float]
    auc_by_period: dict[str, float]
    grades_rejected: int
    grades_rejected_holm: int
    red: int
    amber: int


@dataclass(repr=False, eq=False)
class Monitoring(ReportResult):
    """Out-of-time stability and performance of a scorecard (see :func:`monitor_scorecard`);
    ``table`` has one row per period (the reference first): PSI and its status, AUC with its
    interval, KS, bad rate, mean PD; ``findings`` every check with its traffic light."""

    table: pd.DataFrame
    csi: pd.DataFrame
    grades: pd.DataFrame
    findings: pd.DataFrame
    metrics: MonitoringMetrics
    by_term: pd.DataFrame | None = None

    #: Deprecated name of :attr:`table` (riskkit 0.1).
    by_period = deprecated_alias("table")


def monitor_scorecard(
    scorecard,
    X: pd.DataFrame,
    y,
    dates,
    *,
    development_window=None,
    freq: str = "Q",
    reference_periods: int = 1,
    policy=None,
) -> Monitoring:
    """Out-of-time monitoring: PSI/CSI by period against the development sample, AUC and KS
    with confidence intervals (DeLong, bootstrap), calibration per master-scale grade
    (binomial and Jeffreys, Holm-adjusted for testing every grade), each check with a
    traffic light.

    Parameters
    ----------
    scorecard : fitted riskkit.scoring.Scorecard
    X, y : applications; ``y`` is 1 for bad and NaN where the outcome is not known yet
        (those count for stability only)
    dates : application/disbursement dates (same rows)
    development_window : (start, end), optional
        The model's development window (from the registry): applications inside it form the
        reference, only later applications are monitored. Without it, the first
        ``reference_periods`` periods are the reference.
    freq : {"M", "Q", "Y"}
    policy : path, mapping or Policy, optional
    """
    from ..scoring.metrics import psi_status

    pol = load_policy(policy)
    y = np.asarray(y, dtype=float)
    period, ref, monitored = _periods(X, y, dates, development_window, freq, reference_periods)
    score = scorecard.credit_score(X)
    pd_ = scorecard.predict_proba(X)[:, 1]
    by_period, csi_t = _stability(scorecard, X, y, score, pd_, period, ref, monitored)
    by_period.insert(
        list(by_period.columns).index("psi") + 1, "status", psi_status(by_period["psi"], pol)
    )
    known = monitored & ~np.isnan(y)
    grades = _oot_grades(pd_[known], y[known], pol)
    perf = _oot_performance(
        score[known], y[known], score[ref & ~np.isnan(y)], y[ref & ~np.isnan(y)]
    )
    findings = monitoring_findings(by_period, csi_t, grades, perf, pol)
    from .validation_report import oot_by_term

    by_term = oot_by_term(X, y, score, ref & ~np.isnan(y), known)
    stability = pol["scorecard"]["stability"]
    recent = by_period[~by_period["reference"]]
    metrics = MonitoringMetrics(
        periods=[str(p) for p in by_period.index],
        n=int(monitored.sum()),
        n_with_outcome=int(known.sum()),
        n_reference=int(ref.sum()),
        **perf,
        latest_period=str(by_period.index[-1]),
        latest_outcome_period=_last(recent.index[recent["n_with_outcome"] > 0]),
        latest_application_date=pd.to_datetime(np.asarray(dates))[monitored].max(),
        max_psi=float(recent["psi"].max()),
        psi_monitor=float(stability["psi_monitor"]),
        psi_shifted=float(stability["psi_shifted"]),
        max_csi=float(csi_t.max().max()) if csi_t.size else 0.0,
        psi_by_period=recent["psi"].to_dict(),
        auc_by_period=recent["auc"].to_dict(),
        grades_rejected=int(grades["rejected"].sum()),
        grades_rejected_holm=int(grades["rejected_holm"].sum()),
        red=int((findings["light"] == "red").sum()),
        amber=int((findings["light"] == "amber").sum()),
    )
    return Monitoring(
        table=by_period, csi=csi_t, grades=grades, findings=findings, metrics=metrics,
        by_term=by_term,
    )  # fmt: skip


def _last(index) -> str | None:
    return str(index[-1]) if len(index) else None


def _periods(X, y, dates, window, freq, reference_periods):
    pc = ProblemCollector("monitoring sample")
    if dates is None:
        pc.add("sample", "date", "the sample has no date column to form periods")
    elif len(dates) != len(X) or len(y) != len(X):
        pc.add("sample", "date", "X, y and dates must have the same length")
    pc.raise_if_any()
    d = pd.to_datetime(np.asarray(dates))
    period = np.asarray(pd.PeriodIndex(d, freq=freq).astype(str))
    if window is not None:
        start, end = (pd.Timestamp(w) for w in window)
        ref = np.asarray((d >= start) & (d <= end))
        monitored = np.asarray(d > end)
    else:
        periods = sorted(pd.unique(period))
        ref = np.isin(period, periods[:reference_periods])
        monitored = ~ref
    if not monitored.any() or not ref.any():
        raise ValueError(
            "nothing to monitor out of time: no application after the development window "
            f"{window} (or none inside it)"
        )
    return period, ref, monitored


def _stability(scorecard, X, y, score, pd_, period, ref, monitored):
    """PSI, bad rate, mean PD, AUC/KS (with intervals) per monitored period; CSI per feature."""
    from ..scoring.metrics import csi, psi

    feats = list(scorecard.features_)
    tr = copy.copy(scorecard.binning_)  # a JSON scorecard keeps the model features' bins only
    tr.features_in_ = feats
    rows, csis = [], {}
    rows.append(_period_row("reference", ref, y, score, pd_, psi(score[ref], score[ref]), True))
    for p in sorted(pd.unique(period[monitored])):  # a loop over periods
        m = monitored & (period == p)
        rows.append(_period_row(p, m, y, score, pd_, psi(score[ref], score[m]), False))
        csis[p] = csi(tr, X.loc[ref, feats], X.loc[m, feats], features=feats)
    by_period = pd.DataFrame(rows).set_index("period")
    return by_period, pd.DataFrame(csis)


def _period_row(p, m, y, score, pd_, psi_value, reference) -> dict:
    from ..scoring.metrics import auc_ci, ks

    yy, ss = y[m], score[m]
    k = ~np.isnan(yy)
    both = 0 < np.nansum(yy) < k.sum()
    a = auc_ci(yy[k], ss[k], higher_is_bad=False) if both else {}
    return {
        "period": p,
        "n": int(m.sum()),
        "n_with_outcome": int(k.sum()),
        "bad_rate": float(np.nanmean(yy)) if k.any() else np.nan,
        "pd_mean": float(pd_[m].mean()),
        "auc": a.get("auc", np.nan),
        "auc_lower": a.get("lower", np.nan),
        "auc_upper": a.get("upper", np.nan),
        "ks": ks(yy[k], ss[k], higher_is_bad=False) if both else np.nan,
        "psi": psi_value,
        "reference": reference,
    }


def _oot_grades(pd_, y, pol) -> pd.DataFrame:
    from ..scoring.calibration import MasterScale
    from ..scoring.metrics import grade_tests

    ms = MasterScale(policy=pol)
    if len(y) == 0:
        cols = ["grade", "n", "defaults", "pd_mean", "default_rate", "direction", "binomial_p"]
        cols += ["jeffreys_p", "binomial_two_sided_p", "rejected", "rejected_two_sided"]
        return pd.DataFrame(columns=[*cols, "rejected_holm"])
    return _grade_order(grade_tests(ms.assign(pd_), y, pd_), ms)


def _oot_performance(score, y, ref_score, ref_y) -> dict:
    from ..scoring.metrics import auc_ci, ks_ci

    out = {"reference_auc": np.nan, "auc_oot": np.nan, "auc_oot_lower": np.nan}
    out.update({"auc_oot_upper": np.nan, "ks_oot": np.nan, "ks_oot_lower": np.nan})
    out["ks_oot_upper"] = np.nan
    if 0 < ref_y.sum() < len(ref_y):
        out["reference_auc"] = auc_ci(ref_y, ref_score, higher_is_bad=False)["auc"]
    if 0 < y.sum() < len(y):
        a = auc_ci(y, score, higher_is_bad=False)
        k = ks_ci(y, score, higher_is_bad=False)
        out.update(auc_oot=a["auc"], auc_oot_lower=a["lower"], auc_oot_upper=a["upper"])
        out.update(ks_oot=k["ks"], ks_oot_lower=k["lower"], ks_oot_upper=k["upper"])
    return out


def monitoring_findings(by_period, csi_t, grades, perf, policy) -> pd.DataFrame:
    """Every monitoring check: check, subject, value, limit, light (green/amber/red), text."""
    st = policy["scorecard"]["stability"]
    mon = policy["scorecard"]["monitoring"]
    rows = []
    light = {"stable": "green", "monitor": "amber", "shifted": "red"}
    for p, r in by_period[~by_period["reference"]].iterrows():
        rows.append(("PSI", p, r["psi"], st["psi_monitor"], light[r["status"]],
                     f"PSI {r['psi']:.3f} in {p} ({r['status']})"))  # fmt: skip
    worst = csi_t.max(axis=1) if csi_t.size else pd.Series(dtype=float)
    from ..scoring.metrics import psi_status

    for f, v in worst.items():
        s = str(psi_status([v], policy)[0])
        rows.append(("CSI", f, v, st["psi_monitor"], light[s], f"CSI of {f} up to {v:.3f} ({s})"))
    rows += _auc_findings(perf, mon)
    rows += auc_trend_findings(by_period)
    for _, g in grades.iterrows():
        either = g["rejected"] or g["rejected_two_sided"]
        lt = "red" if g["rejected_holm"] else ("amber" if either else "green")
        p = min(g["binomial_p"], g["jeffreys_p"])
        rows.append(("calibration", g["grade"], p, 0.05, lt,
                     f"grade {g['grade']}: {g['defaults']}/{g['n']} bad ({g['default_rate']:.1%}) "
                     f"vs PD {g['pd_mean']:.1%} ({g['direction']}), one-sided p = {p:.3f} "
                     f"(is the PD too low?), two-sided binomial p = "
                     f"{g['binomial_two_sided_p']:.3f}"))  # fmt: skip
    return pd.DataFrame(rows, columns=["check", "subject", "value", "limit", "light", "text"])


def _auc_findings(perf, mon) -> list:
    a, ref = perf["auc_oot"], perf["reference_auc"]
    if not np.isfinite(a) or not np.isfinite(ref):
        return []
    drop = ref - a
    lt = (
        "red"
        if drop > mon["auc_drop_red"]
        else ("amber" if perf["auc_oot_upper"] < ref else "green")
    )
    text = (
        f"AUC out of time {a:.3f} (95% CI {perf['auc_oot_lower']:.3f}-{perf['auc_oot_upper']:.3f}) "
        f"against {ref:.3f} in development"
    )
    return [("AUC", "out of time", a, ref - mon["auc_drop_red"], lt, text)]


def auc_trend_findings(by_period: pd.DataFrame, min_outcomes: int = 500) -> list:
    """An amber check when the AUC fell in each of the last three monitored periods, and the
    text names the smallest samples (fewer than ``min_outcomes`` applications with an outcome).

    Examples
    --------
    >>> t = pd.DataFrame({"reference": [True, False, False, False],
    ...     "auc": [0.74, 0.745, 0.66, 0.631], "auc_lower": [0.7, 0.7, 0.6, 0.509],
    ...     "auc_upper": [0.78, 0.79, 0.72, 0.753], "n_with_outcome": [5000, 900, 600, 158]},
    ...     index=["reference", "2025Q1", "2025Q2", "2025Q3"])
    >>> auc_trend_findings(t)[0][4]
    'amber'
    """
    recent = by_period[~by_period["reference"]].dropna(subset=["auc"])
    if len(recent) < 3:
        return []
    last = recent.iloc[-3:]
    if not (np.diff(last["auc"].to_numpy()) < 0).all():
        return []
    path = " -> ".join(f"{a:.3f}" for a in last["auc"])
    small = last[last["n_with_outcome"] < min_outcomes]
    text = f"AUC falling in each of the last three periods ({path}, {last.index[0]} to "
    text += f"{last.index[-1]}): a downward trend to watch"
    if len(small):
        r = small.iloc[-1]
        text += (f"; small samples (fewer than {min_outcomes} with an outcome): "
                 f"{', '.join(f'{p} n = {int(n)}' for p, n in small['n_with_outcome'].items())}"
                 f", the last AUC's 95% CI {r['auc_lower']:.3f}-{r['auc_upper']:.3f}")  # fmt: skip
    drop = float(last["auc"].iloc[0] - last["auc"].iloc[-1])
    return [("AUC trend", str(last.index[-1]), drop, 0.0, "amber", text)]


def rules_verdict(rules: pd.DataFrame) -> tuple[str, dict]:
    """The narrative key (``rules.all_pass``, ``rules.dropped`` or ``rules.failing``) and its
    values for the model-rules sentence: which rule dropped which feature, never "all pass"
    when a rule dropped one.

    Examples
    --------
    >>> r = pd.DataFrame({"rule": ["missing_share", "min_iv"], "feature": ["ltv", "age"],
    ...                   "verdict": ["dropped", "pass"]})
    >>> rules_verdict(r)
    ('rules.dropped', {'n': 1, 'dropped': 'ltv (missing_share)', 'n_fail': 0, 'failing': 'none'})
    """
    dropped = rules[rules["verdict"] == "dropped"]
    fails = rules[rules["verdict"] == "fail"]
    values = {
        "n": int(dropped["feature"].nunique()),
        "dropped": ", ".join(
            f"{f} ({r})" for f, r in zip(dropped["feature"], dropped["rule"], strict=True)
        )
        or "none",
        "n_fail": len(fails),
        "failing": ", ".join(
            f"{r} for {f}" for f, r in zip(fails["feature"], fails["rule"], strict=True)
        )
        or "none",
    }
    key = "rules.failing" if len(fails) else ("rules.dropped" if len(dropped) else "rules.all_pass")
    return key, values


def version_status(version) -> str:
    """A model version's status for the "Model: ..." line: ``draft awaiting validation (not
    approved)``, or ``approved champion by <who> on <date>`` from the registry's record.

    Examples
    --------
    >>> from types import SimpleNamespace as V
    >>> version_status(V(status="draft", role=None, approved_by=None, approved_at=None))
    'draft awaiting validation (not approved)'
    """
    if version.status == "draft":
        return "draft awaiting validation (not approved)"
    text = version.status + (f" {version.role}" if version.role else "")
    if version.approved_by:
        text += f" (approved by {version.approved_by}"
        when = version.approved_at
        text += f" on {when:%Y-%m-%d})" if when is not None else ")"
    return text


def failed_grades(grades: pd.DataFrame) -> dict:
    """Names of the grades failing the one-sided and the two-sided tests, for report text.

    Examples
    --------
    >>> g = pd.DataFrame({"grade": ["R1", "R8"], "rejected": [False, False],
    ...                   "rejected_two_sided": [False, True], "direction": ["", "PD too high"]})
    >>> failed_grades(g)
    {'failed': 'none', 'failed_two': 'R8 (PD too high)', 'rejected_two': 1}
    """
    one = grades[grades["rejected"].astype(bool)]
    two = grades[grades["rejected_two_sided"].astype(bool)]
    return {
        "failed": ", ".join(
            f"{g} ({d})" for g, d in zip(one["grade"], one["direction"], strict=True)
        )
        or "none",
        "failed_two": ", ".join(
            f"{g} ({d})" for g, d in zip(two["grade"], two["direction"], strict=True)
        )
        or "none",
        "rejected_two": len(two),
    }


def auc_periods_summary(by_period: pd.DataFrame, min_outcomes: int = 500) -> dict:
    """Values for the ``model_monitoring.auc_periods`` sentence: the AUC of each monitored
    period with its sample size, whether it fell in each of the last three periods, and
    which periods have fewer than ``min_outcomes`` applications with an outcome.

    Examples
    --------
    >>> t = pd.DataFrame({"reference": [False, False, False], "auc": [0.745, 0.66, 0.631],
    ...     "auc_lower": [0.7, 0.6, 0.509], "auc_upper": [0.79, 0.72, 0.753],
    ...     "n_with_outcome": [900, 600, 158]}, index=["2025Q2", "2025Q3", "2025Q4"])
    >>> auc_periods_summary(t)["trend"]
    'falling in each of the last three periods: a downward trend'
    """
    recent = by_period[~by_period["reference"]].dropna(subset=["auc"])
    path = ", ".join(
        f"{p} {r['auc']:.3f} (n = {int(r['n_with_outcome']):,})" for p, r in recent.iterrows()
    )
    if len(recent) < 3:
        trend = "fewer than three periods with an AUC: no trend can be read yet"
    elif (np.diff(recent["auc"].to_numpy()[-3:]) < 0).all():
        trend = "falling in each of the last three periods: a downward trend"
    else:
        trend = "not falling in each of the last three periods"
    small = recent[recent["n_with_outcome"] < min_outcomes]
    if len(small):
        names = ", ".join(
            f"{p} (n = {int(r['n_with_outcome'])}, 95% CI {r['auc_lower']:.3f}-"
            f"{r['auc_upper']:.3f})"
            for p, r in small.iterrows()
        )
        size = f"small samples (fewer than {min_outcomes} with an outcome), read with care: {names}"
    else:
        size = f"every period has at least {min_outcomes} applications with an outcome"
    return {"path": path or "none", "trend": trend, "small": size}


def model_in_force(store, use: str = "application") -> dict | None:
    """The approved champion's label, development window and status, for a report's
    "Model: ..." line (:data:`riskkit.reports.narrative.TEXT` ``model.in_force``); None when
    the registry has none."""
    from ..scoring import ModelRegistry

    try:
        v = ModelRegistry(store).champion(use)
    except LookupError:
        return None
    return {"model": v.label, "window": v.development_window, "status": version_status(v)}
