"""Model rules a validator checks, enforced when a scorecard is fitted and reported.

Policy ``scorecard.rules`` (every limit documented there):

* **missing share**: a feature missing in more than ``max_missing_share`` of the development
  rows is dropped, unless ``missing_allowed`` lists it with the reason for its treatment
  (its missing bin then carries the meaning, e.g. "missing = no collateral");
* **minimum IV** ``min_iv``; **correlation** ``max_corr`` (|Pearson| of WoE, the lower-IV
  feature of a pair goes) and **VIF** ``max_vif``, applied by the WoE selection;
* **monotone numeric bins**: the event rate of a numeric feature's bins rises or falls; a
  peak or valley only where ``shape_allowed`` gives the business reason;
* **expected sign**: every coefficient on WoE is negative (a better WoE lowers the PD). A
  reversed feature, a symptom of collinearity or leakage, is dropped, one at a time (the most
  reversed first), and the model refitted; the reason names its most correlated feature.

:class:`RuleReport` lists each rule, feature, value, limit and verdict (``pass``, ``fail``,
``dropped``, ``allowed``): ``Scorecard.validation_``.

Examples
--------
>>> r = ModelRules.from_policy()
>>> r.min_iv, r.max_corr, r.max_vif, r.max_missing_share
(0.02, 0.7, 5.0, 0.5)
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .selection import vif

COLUMNS = ["rule", "feature", "value", "limit", "verdict", "note"]
_NON_MONOTONE = {"auto", "peak", "valley", "none", None, "auto_heuristic"}


@dataclass(frozen=True)
class ModelRules:
    """The policy's ``scorecard.rules`` (see the module docstring)."""

    min_iv: float = 0.02
    max_corr: float = 0.7
    max_vif: float = 5.0
    max_missing_share: float = 0.5
    monotone_numeric: bool = True
    expected_sign: bool = True
    shape_allowed: dict = field(default_factory=dict)
    missing_allowed: dict = field(default_factory=dict)

    @classmethod
    def from_policy(cls, policy=None) -> ModelRules:
        from ..policy import load_policy

        r = dict(load_policy(policy)["scorecard"]["rules"])
        for key in ("shape_allowed", "missing_allowed"):
            r[key] = {str(e["feature"]): str(e["reason"]) for e in r.get(key) or []}
        return cls(**r)

    # ------------------------------------------------------------------ before binning
    def missing_checks(self, X: pd.DataFrame) -> tuple[list[str], list[dict]]:
        """Features kept after the missing-share rule, and its report rows."""
        share = X.isna().mean()
        keep, rows = [], []
        for f, s in share.items():
            over = s > self.max_missing_share
            allowed = over and f in self.missing_allowed
            verdict = "allowed" if allowed else ("dropped" if over else "pass")
            note = self.missing_allowed.get(f, "") if allowed else ""
            if over and not allowed:
                note = "dropped before binning; list it under missing_allowed with a reason"
            rows.append(_row("missing_share", f, s, self.max_missing_share, verdict, note))
            if not over or allowed:
                keep.append(str(f))
        return keep, rows

    def configure(self, binning, X: pd.DataFrame):
        """``binning`` (a WoETransformer clone) with the IV, correlation and VIF limits (the
        stricter of its own and the rules') and monotone trends for numeric features."""
        params = {
            "min_iv": _stricter(binning.min_iv, self.min_iv, max),
            "max_corr": _stricter(binning.max_corr, self.max_corr, min),
            "max_vif": _stricter(binning.max_vif, self.max_vif, min),
        }
        if self.monotone_numeric:
            params["monotonic_trend"] = self._trends(binning, X)
        return binning.set_params(**params)

    def _trends(self, binning, X) -> dict:
        own = binning.monotonic_trend
        cats = set(binning.categorical_features or ())
        out = {}
        for f in X.columns:
            t = own.get(f, "auto") if isinstance(own, dict) else own
            numeric = pd.api.types.is_numeric_dtype(X[f]) and f not in cats
            if numeric and t in _NON_MONOTONE and f not in self.shape_allowed:
                t = "auto_asc_desc"
            out[str(f)] = t
        return out

    # ------------------------------------------------------------------ after fitting
    def selection_rows(self, binning, features: list[str], W: pd.DataFrame) -> list[dict]:
        """IV, correlation and VIF of the model features, and what the selection dropped."""
        rows = [_row("min_iv", f, binning.iv_[f], self.min_iv, "pass", "") for f in features]
        log = binning.selection_log_
        for step, rule in (("iv", "min_iv"), ("correlation", "max_corr"), ("vif", "max_vif")):
            for _, r in log[log["step"] == step].iterrows():
                rows.append(_row(rule, r["feature"], np.nan, np.nan, "dropped", r["reason"]))
        if len(features) > 1:
            C = np.abs(np.corrcoef(W[features].to_numpy(dtype=float), rowvar=False))
            np.fill_diagonal(C, 0.0)
            i, j = np.unravel_index(np.argmax(C), C.shape)
            pair = f"{features[i]} / {features[j]}"
            rows.append(
                _row("max_corr", pair, C[i, j], self.max_corr, _le(C[i, j], self.max_corr), "")
            )
            v = vif(W[features])
            worst = v.idxmax()
            rows.append(
                _row("max_vif", worst, v[worst], self.max_vif, _le(v[worst], self.max_vif), "")
            )
        return rows

    def shape_rows(self, binning, features: list[str]) -> list[dict]:
        """Whether each numeric model feature's bins are monotone (or an allowed shape)."""
        rows = []
        for f in features:
            ob = binning.binnings_[f]
            if ob.splits_ is None:
                continue
            rate = ob.table_["event_rate"].to_numpy()[: ob.n_bins_]
            rate = rate[~np.isnan(rate)]
            d = np.diff(rate)
            mono = bool((d > 0).all() or (d < 0).all()) if len(d) else True
            shape = "monotone" if mono else ob.trend_
            if mono:
                verdict, note = "pass", ""
            elif f in self.shape_allowed:
                verdict, note = "allowed", self.shape_allowed[f]
            else:
                verdict, note = "fail", f"{ob.trend_} bins without a business reason"
            rows.append(_row("monotone_bins", f, shape, "monotone", verdict, note))
        return rows

    def sign_rows(self, features, coef, dropped) -> list[dict]:
        rows = [
            _row("expected_sign", f, float(b), "< 0", "pass" if b < 0 else "fail", "")
            for f, b in zip(features, coef, strict=True)
        ]
        return rows + [_row("expected_sign", f, b, "< 0", "dropped", why) for f, b, why in dropped]


def reversed_feature(features, coef, W: pd.DataFrame):
    """The most reversed feature (largest positive coefficient on WoE) and why, or None."""
    coef = np.asarray(coef, dtype=float)
    if not len(coef) or coef.max() <= 0:
        return None
    k = int(np.argmax(coef))
    f = features[k]
    why = f"coefficient {coef[k]:+.3f} on WoE: a better WoE would raise the PD"
    others = [g for g in features if g != f]
    if others:
        c = W[others].corrwith(W[f]).abs()
        why += f"; most correlated with {c.idxmax()} (|corr| {c.max():.2f})"
    return f, float(coef[k]), why


@dataclass
class RuleReport:
    """The model rules checked at fit: one row per rule and feature (:attr:`table`)."""

    table: pd.DataFrame

    def to_frame(self) -> pd.DataFrame:
        return self.table.copy()

    @property
    def passed(self) -> bool:
        """True when no rule failed (dropped and allowed features are resolved findings)."""
        return not (self.table["verdict"] == "fail").any()

    @property
    def failures(self) -> pd.DataFrame:
        return self.table[self.table["verdict"] == "fail"]

    def summary(self) -> pd.DataFrame:
        """Verdict counts per rule."""
        return self.table.pivot_table(
            index="rule", columns="verdict", values="feature", aggfunc="count", fill_value=0
        )

    def __repr__(self) -> str:
        counts = self.table["verdict"].value_counts().to_dict()
        state = "all rules pass" if self.passed else f"{len(self.failures)} rule(s) fail"
        return f"RuleReport({state}; {counts})"

    def _repr_html_(self) -> str:
        return f"<b>{html.escape(repr(self))}</b>" + self.table.to_html(index=False)


def _row(rule, feature, value, limit, verdict, note) -> dict:
    return dict(zip(COLUMNS, (rule, feature, value, limit, verdict, note), strict=True))


def _le(value, limit) -> str:
    return "pass" if value <= limit + 1e-12 else "fail"


def _stricter(own, rule, pick):
    return rule if own is None else pick(own, rule)
