"""The model validation report: everything a validator reads before signing a scorecard.

:func:`validate_model` takes a registered version (draft or approved) and the application
sample, and returns a :class:`ModelValidation`: data and outcome definition, discriminatory
power with confidence intervals in and out of time, calibration per grade (binomial and
Jeffreys, Holm-adjusted), stability, a challenger (scikit-learn's
``HistGradientBoostingClassifier`` on the same features and split) with the AUC gap and
DeLong's test, the model rules, manual bins and reject inference, and the findings table.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

FINDING_COLUMNS = ["area", "finding", "evidence", "light"]


@dataclass
class ModelValidation:
    """One validation: :attr:`findings` is the table a validator signs."""

    model: str
    window: tuple
    samples: pd.DataFrame
    discrimination: pd.DataFrame
    grades: pd.DataFrame
    stability: pd.DataFrame
    challenger: dict
    rules: pd.DataFrame | None
    findings: pd.DataFrame
    outcome_by_method: pd.DataFrame | None = None
    metrics: dict = field(default_factory=dict)
    outcome_by_term: pd.DataFrame | None = None
    oot_by_term: pd.DataFrame | None = None

    def to_frame(self) -> pd.DataFrame:
        return self.findings.copy()

    def __repr__(self) -> str:
        lights = self.findings["light"].value_counts().to_dict()
        return f"ModelValidation({self.model}, findings {lights})"

    def _repr_html_(self) -> str:
        return f"<b>{html.escape(repr(self))}</b>" + self.findings.to_html(index=False)


def validate_model(version, X: pd.DataFrame, y, dates, *, policy=None, seed: int = 0):
    """Validate a registered scorecard ``version`` (:class:`riskkit.scoring.ModelVersion`) on
    the applications ``X`` with outcome ``y`` (1 bad, NaN unknown) and ``dates``."""
    from ..policy import load_policy

    pol = load_policy(policy)
    sc = version.scorecard()
    d = pd.to_datetime(np.asarray(dates))
    y = np.asarray(y, dtype=float)
    known = ~np.isnan(y)
    dev = known & np.asarray(d <= version.development_end)
    oot = known & np.asarray(d > version.development_end)
    if dev.sum() == 0 or oot.sum() == 0:
        raise ValueError(f"{version.label}: no applications with an outcome in or after its window")
    score = sc.credit_score(X)
    pd_ = sc.predict_proba(X)[:, 1]
    disc = _discrimination(score, y, dev, oot)
    grades = _grades(pd_[oot], y[oot], pol)
    # stability on every application (outcome known or not): inside the window vs after it
    inside = np.asarray((d >= version.development_start) & (d <= version.development_end))
    stability = _stability(sc, X, score, inside, np.asarray(d > version.development_end))
    challenger = _challenger(sc, X, y, dev, oot, score, seed)
    rules = None if sc.validation_ is None else sc.validation_.table
    by_method = _by_method(X, y, known)
    by_term = outcome_by_term(X, y, known)
    oot_terms = oot_by_term(X, y, score, dev, oot)
    findings = _findings(disc, grades, stability, challenger, rules, by_method, pd_, y, oot, pol)
    findings = pd.concat(
        [findings, pd.DataFrame(_term_findings(by_term, oot_terms), columns=FINDING_COLUMNS)],
        ignore_index=True,
    )
    samples = pd.DataFrame(
        {"applications": [int(dev.sum()), int(oot.sum())],
         "bad": [int(np.nansum(y[dev])), int(np.nansum(y[oot]))]},
        index=["development window", "out of time"],
    )  # fmt: skip
    samples["bad_rate"] = samples["bad"] / samples["applications"]
    return ModelValidation(
        model=version.label,
        window=(version.development_start, version.development_end),
        samples=samples,
        discrimination=disc,
        grades=grades,
        stability=stability,
        challenger=challenger,
        rules=rules,
        findings=findings,
        outcome_by_method=by_method,
        metrics=_metrics(disc, challenger, findings),
        outcome_by_term=by_term,
        oot_by_term=oot_terms,
    )


def _discrimination(score, y, dev, oot) -> pd.DataFrame:
    from ..scoring.metrics import auc_ci, ks_ci

    rows = {}
    for name, m in (("development window", dev), ("out of time", oot)):
        a = auc_ci(y[m], score[m], higher_is_bad=False)
        k = ks_ci(y[m], score[m], higher_is_bad=False)
        rows[name] = {"n": int(m.sum()), "auc": a["auc"], "auc_lower": a["lower"],
                      "auc_upper": a["upper"], "gini": 2 * a["auc"] - 1, "ks": k["ks"],
                      "ks_lower": k["lower"], "ks_upper": k["upper"]}  # fmt: skip
    out = pd.DataFrame(rows).T.astype(float)
    return out.astype({"n": np.int64})


def _grades(pd_, y, pol) -> pd.DataFrame:
    from ..scoring.calibration import MasterScale
    from ..scoring.metrics import grade_tests

    ms = MasterScale(policy=pol)
    g = grade_tests(ms.assign(pd_), y, pd_)
    order = {lab: i for i, lab in enumerate(ms.labels)}
    return g.sort_values("grade", key=lambda s: s.map(order)).reset_index(drop=True)


def _stability(sc, X, score, ref, oot) -> pd.DataFrame:
    import copy

    from ..scoring.metrics import csi, psi

    feats = list(sc.features_)
    tr = copy.copy(sc.binning_)
    tr.features_in_ = feats
    c = csi(tr, X.loc[ref, feats], X.loc[oot, feats], features=feats)
    out = pd.concat([pd.Series({"score (PSI)": psi(score[ref], score[oot])}), c])
    return out.rename("index").to_frame()


def challenger_model(seed: int = 0):
    """scikit-learn's HistGradientBoostingClassifier with native categorical handling."""
    from sklearn.ensemble import HistGradientBoostingClassifier

    return HistGradientBoostingClassifier(
        categorical_features="from_dtype", max_iter=200, learning_rate=0.05,
        early_stopping=True, random_state=seed,
    )  # fmt: skip


def _challenger(sc, X, y, dev, oot, score, seed) -> dict:
    """The challenger on the scorecard's features, fitted on the development window and scored
    out of time; DeLong's test of the two AUCs on the same applications."""
    from ..scoring.metrics import delong_test

    feats = list(sc.features_)
    Z = X[feats].copy()
    for c in Z.columns:
        if not pd.api.types.is_numeric_dtype(Z[c]):
            Z[c] = Z[c].astype("category")
    model = challenger_model(seed).fit(Z[dev], y[dev].astype(int))
    p = model.predict_proba(Z[oot])[:, 1]
    t = delong_test(y[oot], p, -score[oot])
    return {"features": feats, "auc_challenger": t["auc_a"], "auc_scorecard": t["auc_b"],
            "gap": t["difference"], "gap_lower": t["lower"], "gap_upper": t["upper"],
            "p_value": t["p_value"]}  # fmt: skip


def _by_method(X, y, known) -> pd.DataFrame | None:
    if "repayment_method" not in X.columns:
        return None
    df = pd.DataFrame({"method": X.loc[known, "repayment_method"], "bad": y[known]})
    g = df.groupby("method")["bad"].agg(["size", "mean"]).rename(columns={"mean": "bad_rate"})
    g["to_book"] = g["bad_rate"] / df["bad"].mean()
    return g


def outcome_by_term(X: pd.DataFrame, y, known) -> pd.DataFrame | None:
    """Bad rate and performance-window length per loan term (applications with an outcome).

    The window comes from ``X.attrs["outcome_window"]`` (the
    :class:`riskkit.scoring.sample.OutcomeDefinition` of the sample); without it (a file or
    German credit) the table has no ``window_months`` column. None without ``term_months``.

    Examples
    --------
    >>> X = pd.DataFrame({"term_months": [6, 6, 24, 24]})
    >>> X.attrs["outcome_window"] = {"window_months": 15, "window_rule": "fixed"}
    >>> t = outcome_by_term(X, np.array([0.0, 1, 1, 1]), np.ones(4, bool))
    >>> t[["n", "bad_rate", "window_months"]].values.tolist()
    [[2.0, 0.5, 15.0], [2.0, 1.0, 15.0]]
    """
    if "term_months" not in X.columns:
        return None
    y = np.asarray(y, dtype=float)
    df = pd.DataFrame({"term": X.loc[known, "term_months"].to_numpy(), "bad": y[known]})
    g = df.groupby("term")["bad"].agg(["size", "mean"])
    g.columns = ["n", "bad_rate"]
    g.index.name = "term_months"
    g["to_book"] = g["bad_rate"] / df["bad"].mean()
    window = X.attrs.get("outcome_window")
    if window:
        from ..scoring.sample import OutcomeDefinition

        g["window_months"] = OutcomeDefinition(**window).window_lengths(g.index.to_numpy())
    return g


def oot_by_term(X: pd.DataFrame, y, score, dev, oot) -> pd.DataFrame | None:
    """Per loan term: applications with an outcome in development and out of time, the
    out-of-time bad rate and AUC (NaN where out of time has no bad or no good), and
    ``tested`` (out-of-time AUC measured). None without ``term_months``."""
    from ..scoring.metrics import auc

    if "term_months" not in X.columns:
        return None
    y = np.asarray(y, dtype=float)
    term = X["term_months"].to_numpy()
    rows = {}
    for t in np.unique(term):  # a loop over the few terms, not loans
        d, o = dev & (term == t), oot & (term == t)
        both = 0 < np.nansum(y[o]) < o.sum()
        a = auc(y[o], score[o], higher_is_bad=False) if both else np.nan
        rate = float(np.nanmean(y[o])) if o.any() else np.nan
        rows[t] = {"n_development": int(d.sum()), "n_out_of_time": int(o.sum()),
                   "bad_rate_out_of_time": rate, "auc_out_of_time": a, "tested": bool(both)}  # fmt: skip
    out = pd.DataFrame(rows).T
    out.index.name = "term_months"
    return out.astype({"n_development": np.int64, "n_out_of_time": np.int64, "tested": bool})


def _term_findings(by_term, oot_terms) -> list:
    """The outcome-definition check by term (no term's bad rate explained by the length of
    its window) and the out-of-time coverage by term."""
    rows = []
    if by_term is not None and "window_months" in by_term.columns:
        w = by_term["window_months"]
        lo, hi = by_term["bad_rate"].idxmin(), by_term["bad_rate"].idxmax()
        rates = f"bad rate {by_term['bad_rate'].min():.1%} ({lo}-month term) to "
        rates += f"{by_term['bad_rate'].max():.1%} ({hi}-month term)"
        if w.nunique() == 1:
            text, lt = f"window {int(w.iloc[0])} months for every term; {rates}", "green"
        else:
            rho = float(stats.spearmanr(w, by_term["bad_rate"]).statistic)
            text = (f"window {int(w.min())} to {int(w.max())} months by term; {rates}; "
                    f"rank correlation of bad rate with window {rho:+.2f}")  # fmt: skip
            lt = "red" if rho > 0 else "amber"
        rows.append(("outcome definition", "no term's bad rate explained by window length",
                     text, lt))  # fmt: skip
    if oot_terms is not None:
        untested = [str(t) for t in oot_terms.index[~oot_terms["tested"]]]
        text = f"out of time tested on terms {_names(oot_terms.index[oot_terms['tested']])} "
        text += f"months; untested: {_names(untested)}"
        rows.append(("out of time", "every term tested out of time", text,
                     "amber" if untested else "green"))  # fmt: skip
    return rows


def _findings(disc, grades, stability, ch, rules, by_method, pd_, y, oot, pol) -> pd.DataFrame:
    rows = []
    o = disc.loc["out of time"]
    low = o["auc_lower"] < 0.6
    rows.append(("discrimination", "AUC out of time",
                 f"{o['auc']:.3f} (95% CI {o['auc_lower']:.3f}-{o['auc_upper']:.3f}), "
                 f"KS {o['ks']:.3f}", "amber" if low else "green"))  # fmt: skip
    sig = ch["p_value"] < 0.05 and ch["gap"] > 0.03
    rows.append(("benchmark", "challenger (gradient boosting, same features and split)",
                 f"AUC {ch['auc_challenger']:.3f} vs {ch['auc_scorecard']:.3f}: gap "
                 f"{ch['gap']:+.3f} (95% CI {ch['gap_lower']:+.3f} to {ch['gap_upper']:+.3f}, "
                 f"DeLong p = {ch['p_value']:.3f})", "amber" if sig else "green"))  # fmt: skip
    rows += _calibration_findings(grades, pd_[oot], y[oot])
    st = pol["scorecard"]["stability"]
    worst = stability["index"].idxmax()
    v = stability["index"].max()
    lt = "red" if v > st["psi_shifted"] else ("amber" if v >= st["psi_monitor"] else "green")
    rows.append(("stability", "PSI of the score and CSI of the features",
                 f"largest {worst} {v:.3f} (monitor at {st['psi_monitor']})", lt))  # fmt: skip
    rows += _rule_findings(rules)
    if by_method is not None:
        r = by_method["to_book"].min()
        rows.append(("outcome definition", "no repayment method looks safe by its structure",
                     f"lowest bad rate {by_method['to_book'].idxmin()} at {r:.2f} x the "
                     "book's (limit 1/3)", "green" if r >= 1 / 3 else "red"))  # fmt: skip
    return pd.DataFrame(rows, columns=FINDING_COLUMNS)


def _calibration_findings(grades, pd_, y) -> list:
    n, d, p = len(y), int(y.sum()), float(pd_.mean())
    p_two = float(stats.binomtest(d, n, p).pvalue)
    out = [("calibration", "mean PD vs bad rate out of time",
            f"{d}/{n} bad ({d / n:.1%}) vs mean PD {p:.1%}, binomial p = {p_two:.3f}",
            "amber" if p_two < 0.05 else "green")]  # fmt: skip
    holm_fail = grades[grades["rejected_holm"]]["grade"].tolist()
    either = grades["rejected"] | grades["rejected_two_sided"]
    raw_fail = grades[either & ~grades["rejected_holm"]]["grade"].tolist()
    lt = "red" if holm_fail else ("amber" if raw_fail else "green")
    high = grades[grades["rejected_two_sided"] & (grades["direction"] == "PD too high")]
    text = f"{len(grades)} grades tested; after Holm: {_names(holm_fail)} fail"
    text += f"; before it only: {_names(raw_fail)}; PD too high (two-sided binomial): "
    text += _names(high["grade"].tolist())
    what = "per grade (one-sided binomial and Jeffreys: PD too low?; two-sided binomial)"
    return out + [("calibration", what, text, lt)]


def _rule_findings(rules) -> list:
    if rules is None:
        return [("model rules", "rules at fit", "fitted without the model rules", "red")]
    fails = rules[rules["verdict"] == "fail"]
    dropped = rules[rules["verdict"] == "dropped"]
    signs = rules[rules["rule"] == "expected_sign"]
    reversed_ = signs[signs["verdict"] == "dropped"]["feature"].tolist()
    text = (
        f"{len(fails)} failing; {len(dropped)} features dropped by the rules; every coefficient "
        f"negative (reversed and dropped: {_names(reversed_)})"
    )
    return [("model rules", "sign, monotone bins, IV, correlation, VIF, missing share", text,
             "red" if len(fails) else "green")]  # fmt: skip


def _names(items) -> str:
    """``R6, R7`` (or ``none``) for a validator's text, not a Python list."""
    return ", ".join(str(i) for i in items) or "none"


def _metrics(disc, ch, findings) -> dict:
    o, dv = disc.loc["out of time"], disc.loc["development window"]
    return {
        "auc_dev": float(dv["auc"]), "auc_dev_lower": float(dv["auc_lower"]),
        "auc_dev_upper": float(dv["auc_upper"]), "auc_oot": float(o["auc"]),
        "auc_oot_lower": float(o["auc_lower"]), "auc_oot_upper": float(o["auc_upper"]),
        "ks_oot": float(o["ks"]), "ks_oot_lower": float(o["ks_lower"]),
        "ks_oot_upper": float(o["ks_upper"]), "challenger_auc": ch["auc_challenger"],
        "challenger_gap": ch["gap"], "challenger_p": ch["p_value"],
        "red": int((findings["light"] == "red").sum()),
        "amber": int((findings["light"] == "amber").sum()),
    }  # fmt: skip


def version_to_validate(store, name: str | None = None, version: int | None = None):
    """The version a validation report reads: ``name``/``version`` when given, else the
    latest draft, else the approved application champion."""
    from ..scoring import ModelRegistry

    reg = ModelRegistry(store)
    if name:
        return reg.get(name, version)
    cur = reg.versions()
    drafts = cur[cur["status"] == "draft"]
    if len(drafts):
        last = drafts.sort_values("registered_at").iloc[-1]
        return reg.get(last["name"], int(last["version"]))
    return reg.champion("application")
