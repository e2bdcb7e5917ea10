"""Assembly of the score-calibration and model-monitoring reports from :mod:`riskkit.scoring`.

Binning, the scorecard, PD calibration, the master scale and every metric come from
:mod:`riskkit.scoring`; this module splits the sample, calls them and gathers tables and key
figures for the notebooks.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..deprecation import deprecated_alias
from ..errors import ProblemCollector
from ..policy import load_policy
from ..results import ReportMetrics, ReportResult
from ..scoring.sample import feature_columns


def load_scoring_data(
    source: str,
    store=None,
    horizon_months: int = 12,
    data_file=None,
    target: str | None = None,
    bad_value: str | None = None,
    date_column: str | None = None,
    bad_missed_periods: int = 3,
):
    """``(X, y, dates)`` for a data source.

    ``source``: ``"sample_book"`` (application sample of the stored book,
    :func:`riskkit.scoring.application_sample` with ``horizon_months``; target ``bad``),
    ``"german_credit"`` (:func:`riskkit.datasets.load_german_credit`; target
    ``creditability`` = ``bad``) or ``"file"`` (CSV or Parquet ``data_file`` with the
    ``target`` column; a row is bad where it equals ``bad_value``, default ``"1"``).
    ``dates`` (from ``date_column``, else the first date column, else None) orders the
    monitoring periods. Identifier and PII columns never become features. For the sample
    book, ``X.attrs["outcome_cutoff"]`` is the last disbursement date whose outcome window
    (``horizon_months``) is fully observed by the book's as-of date (None for other sources).
    """
    from pathlib import Path

    outcome_cutoff = None
    if source == "sample_book":
        from ..scoring import application_sample

        book = store.load_book()
        df = application_sample(book, horizon_months=horizon_months, bad_missed=bad_missed_periods)
        # application_sample keeps loans whose whole outcome window is observed
        outcome_cutoff = book.as_of_date - pd.DateOffset(months=int(horizon_months))
        target, bad_value = target or "bad", "1" if bad_value is None else bad_value
    elif source == "german_credit":
        from .. import datasets

        df = datasets.load_german_credit()
        target, bad_value = target or "creditability", bad_value or "bad"
    elif source == "file":
        if not data_file:
            raise ValueError("data_source 'file' needs the data_file parameter")
        path = Path(data_file)
        if path.suffix.lower() in (".parquet", ".pq"):
            df = pd.read_parquet(path)
        else:
            df = pd.read_csv(path)
        date_cols = [date_column] if date_column else []
        for c in date_cols:
            if c in df.columns:
                df[c] = pd.to_datetime(df[c], format="ISO8601")
        target, bad_value = target or "bad", "1" if bad_value is None else bad_value
    else:
        raise ValueError(
            f"data_source must be 'sample_book', 'german_credit' or 'file', got {source!r}"
        )
    pc = ProblemCollector(f"scoring data ({source})")
    if target not in df.columns:
        pc.add("sample", target, f"target column missing; columns: {list(df.columns)}")
    if date_column and date_column not in df.columns:
        pc.add("sample", date_column, "date column missing")
    pc.raise_if_any()
    raw = df[target]
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
    X.attrs["outcome_cutoff"] = outcome_cutoff
    return X, y, dates


@dataclass
class CalibrationMetrics(ReportMetrics):
    """Key figures of the score-calibration report (``metrics.json``)."""

    n_train: int
    n_test: int
    bad_rate: float
    n_features: int
    features: list[str]
    auc_train: float
    auc_test: float
    gini_test: float
    ks_test: float
    score_mean_test: float
    pd_mean_test: float
    grades_rejected: int


@dataclass(repr=False, eq=False)
class ScoreCalibration(ReportResult):
    """A fitted scorecard with its validation tables (see :func:`calibrate_scorecard`);
    ``table`` is the scorecard's points table."""

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

    #: Deprecated name of :attr:`table` (riskkit 0.1).
    points = deprecated_alias("table")


def calibrate_scorecard(
    X: pd.DataFrame,
    y,
    *,
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
    """Fit and validate a scorecard on a stratified train/test split.

    Returns AUC/Gini/KS on both samples, the gains table, the calibration curve and the
    per-grade tests (master scale) on the test sample.
    """
    from sklearn.model_selection import train_test_split

    from ..scoring import Scorecard, WoETransformer
    from ..scoring.calibration import MasterScale, PDCalibrator
    from ..scoring.metrics import auc, calibration_curve, gains_table, gini, grade_tests, ks

    y = np.asarray(y)
    pc = ProblemCollector("scoring sample")
    if len(X) != len(y):
        pc.add("sample", "target", f"{len(y)} targets for {len(X)} rows")
    elif len(np.unique(y)) != 2:
        pc.add("sample", "target", f"needs both good and bad rows, got {np.unique(y).tolist()}")
    pc.raise_if_any()
    X_tr, X_te, y_tr, y_te = train_test_split(
        X, y, test_size=test_share, random_state=seed, stratify=y
    )
    sc = Scorecard(
        binning=WoETransformer(
            max_n_bins=max_n_bins,
            min_bin_share=min_bin_share,
            monotonic_trend=monotonic_trend,
            min_iv=min_iv,
        ),
        base_score=base_score,
        base_odds=base_odds,
        pdo=pdo,
        policy=policy,
    ).fit(X_tr, y_tr)
    s_tr = sc.credit_score(X_tr)
    s_te = sc.credit_score(X_te)
    cal = PDCalibrator(target_rate=target_rate).fit(s_tr, y_tr)
    pd_te = cal.predict(s_te)
    ms = MasterScale(policy=policy)
    grades = grade_tests(ms.assign(pd_te), y_te, pd_te)
    order = {g: i for i, g in enumerate(ms.labels)}
    grades = grades.sort_values("grade", key=lambda s: s.map(order)).reset_index(drop=True)
    gains = gains_table(y_te, s_te, n_bands=10, higher_is_bad=False)
    curve = calibration_curve(y_te, pd_te, n_bins=10)
    metrics = CalibrationMetrics(
        n_train=int(len(y_tr)),
        n_test=int(len(y_te)),
        bad_rate=float(np.mean(y)),
        n_features=int(len(sc.features_)),
        features=list(sc.features_),
        auc_train=auc(y_tr, s_tr, higher_is_bad=False),
        auc_test=auc(y_te, s_te, higher_is_bad=False),
        gini_test=gini(y_te, s_te, higher_is_bad=False),
        ks_test=ks(y_te, s_te, higher_is_bad=False),
        score_mean_test=float(np.mean(s_te)),
        pd_mean_test=float(np.mean(pd_te)),
        grades_rejected=int(grades["rejected"].sum()),
    )
    return ScoreCalibration(
        scorecard=sc,
        master_scale=ms,
        iv=sc.binning_.iv_,
        table=sc.points_table(),
        gains=gains,
        calibration=curve,
        grades=grades,
        scores_test=s_te,
        y_test=y_te,
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


def find_scorecard(scorecard_path=None, output_dir=None):
    """The scorecard to monitor: ``scorecard_path``, else the ``scorecard.json`` of the
    ``score_calibration`` report of the same as-of date (next to this report's run directory).
    """
    from pathlib import Path

    from ..scoring import Scorecard

    if scorecard_path:
        path = Path(scorecard_path)
    else:
        base = Path(output_dir or ".").resolve()
        path = base.parent / "score_calibration" / "scorecard.json"
    if not path.exists():
        raise FileNotFoundError(
            f"no scorecard at {path}: run the score_calibration report for this as-of date "
            "first, or pass -p scorecard_path=FILE.json"
        )
    return Scorecard.from_json(path.read_text(encoding="utf-8")), path


@dataclass
class MonitoringMetrics(ReportMetrics):
    """Key figures of the model-monitoring report (``metrics.json``)."""

    periods: list[str]
    n: int
    reference_auc: float
    latest_period: str
    latest_application_date: pd.Timestamp
    latest_auc: float
    latest_ks: float
    max_psi: float
    psi_monitor: float
    psi_shifted: float
    max_csi: float
    psi_by_period: dict[str, float]
    auc_by_period: dict[str, float]
    grades_rejected_latest: int


@dataclass(repr=False, eq=False)
class Monitoring(ReportResult):
    """Stability and performance of a scorecard by period (see :func:`monitor_scorecard`);
    ``table`` has one row per period (PSI and its status, AUC, KS, bad rate, mean PD)."""

    table: pd.DataFrame
    csi: pd.DataFrame
    grades: pd.DataFrame
    metrics: MonitoringMetrics

    #: Deprecated name of :attr:`table` (riskkit 0.1).
    by_period = deprecated_alias("table")


def monitor_scorecard(
    scorecard, X: pd.DataFrame, y, dates, freq: str = "Q", reference_periods: int = 1, policy=None
) -> Monitoring:
    """PSI/CSI by period against the first ``reference_periods`` periods, AUC/KS per period,
    and calibration per master-scale grade in the latest period.

    Parameters
    ----------
    scorecard : fitted riskkit.scoring.Scorecard
    X, y : sample with the outcome (1 = bad)
    dates : array of application/disbursement dates (same rows)
    freq : {"M", "Q", "Y"}
        Period length.
    reference_periods : int
        How many of the first periods form the reference (development) sample.
    policy : path, mapping or Policy, optional
        Master-scale grades and PSI status thresholds (``scorecard.master_scale`` and
        ``scorecard.stability``).
    """
    from ..scoring.calibration import MasterScale
    from ..scoring.metrics import auc, csi, grade_tests, ks, psi, psi_status

    pc = ProblemCollector("monitoring sample")
    if dates is None:
        pc.add("sample", "date", "the sample has no date column to form periods")
    elif len(dates) != len(X) or len(y) != len(X):
        pc.add("sample", "date", "X, y and dates must have the same length")
    pc.raise_if_any()
    y = np.asarray(y)
    period = pd.PeriodIndex(pd.to_datetime(np.asarray(dates)), freq=freq).astype(str)
    periods = sorted(pd.unique(period))
    if len(periods) <= reference_periods:
        raise ValueError(
            f"need more than {reference_periods} period(s) of data to monitor, got {periods}"
        )
    ref = np.isin(period, periods[:reference_periods])
    score = scorecard.credit_score(X)
    pd_ = scorecard.predict_proba(X)[:, 1]
    # A scorecard read back from JSON keeps the bins of its model features only, while
    # scoring.metrics.csi transforms every input feature: give it a view limited to them.
    import copy

    feats = list(scorecard.features_)
    tr = copy.copy(scorecard.binning_)
    tr.features_in_ = feats
    rows, csis = [], {}
    for p in periods:  # a loop over periods
        m = period == p
        yy = y[m]
        both = 0 < yy.sum() < len(yy)
        v = psi(score[ref], score[m])
        rows.append(
            {
                "period": p,
                "n": int(m.sum()),
                "bad_rate": float(yy.mean()) if len(yy) else np.nan,
                "pd_mean": float(pd_[m].mean()),
                "auc": auc(yy, score[m], higher_is_bad=False) if both else np.nan,
                "ks": ks(yy, score[m], higher_is_bad=False) if both else np.nan,
                "psi": v,
                "reference": bool(p in periods[:reference_periods]),
            }
        )
        csis[p] = csi(tr, X.loc[ref, feats], X.loc[m, feats], features=feats)
    pol = load_policy(policy)
    stability = pol["scorecard"]["stability"]
    by_period = pd.DataFrame(rows).set_index("period")
    by_period.insert(
        list(by_period.columns).index("psi") + 1, "status", psi_status(by_period["psi"], pol)
    )
    csi_t = pd.DataFrame(csis)
    ms = MasterScale(policy=pol)
    last = period == periods[-1]
    grades = grade_tests(ms.assign(pd_[last]), y[last], pd_[last])
    order = {g: i for i, g in enumerate(ms.labels)}
    grades = grades.sort_values("grade", key=lambda s: s.map(order)).reset_index(drop=True)
    recent = by_period[~by_period["reference"]]
    metrics = MonitoringMetrics(
        periods=periods,
        n=int(len(y)),
        reference_auc=float(auc(y[ref], score[ref], higher_is_bad=False)),
        latest_period=periods[-1],
        latest_application_date=pd.to_datetime(np.asarray(dates)).max(),
        latest_auc=float(by_period["auc"].iloc[-1]),
        latest_ks=float(by_period["ks"].iloc[-1]),
        max_psi=float(recent["psi"].max()),
        psi_monitor=float(stability["psi_monitor"]),
        psi_shifted=float(stability["psi_shifted"]),
        max_csi=float(csi_t.drop(columns=periods[:reference_periods]).max().max()),
        psi_by_period=by_period["psi"].to_dict(),
        auc_by_period=by_period["auc"].to_dict(),
        grades_rejected_latest=int(grades["rejected"].sum()),
    )
    return Monitoring(table=by_period, csi=csi_t, grades=grades, metrics=metrics)
