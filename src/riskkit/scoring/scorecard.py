"""``Scorecard``: optimal binning -> WoE -> logistic regression -> points.

Scaling (policy ``scorecard``: base_score 600 at base_odds 50:1 good:bad, PDO 20)::

    factor = pdo / ln 2
    offset = base_score - factor * ln(base_odds)
    score  = offset - factor * log_odds_bad,   log_odds_bad = b0 + sum_j b_j * WoE_j

Points of bin k of feature j (p selected features; the intercept is spread evenly)::

    points_jk = -factor * b_j * WoE_jk + (offset - factor * b0) / p

so the unrounded points of a row sum exactly (to float precision) to ``offset - factor *
log_odds_bad``, and ``pd_from_score(sum of points) == predict_proba``. Integer points round each
bin's points half-up; a row's integer score then differs from the exact score by at most
``p / 2`` points, i.e. its log-odds by at most ``p / (2 * factor)`` (tested).

Examples
--------
>>> import numpy as np, pandas as pd
>>> rng = np.random.default_rng(0)
>>> X = pd.DataFrame({"income": rng.normal(size=4000), "age": rng.normal(size=4000)})
>>> y = (rng.random(4000) < 1 / (1 + np.exp(2 + X["income"] - 0.5 * X["age"]))).astype(int)
>>> sc = Scorecard().fit(X, y)
>>> pts = sc.credit_score(X, integer=False)
>>> bool(np.allclose(sc.pd_from_score(pts), sc.predict_proba(X)[:, 1]))
True
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
from scipy.special import expit
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.metrics import roc_auc_score
from sklearn.utils.validation import check_is_fitted

from riskkit.policy import load_policy

from .binning import OptimalBinning
from .document import read_document, scorecard_to_json
from .inputs import FittedReprMixin, as_frame, binary_target, check_target
from .rules import COLUMNS as RULE_COLUMNS
from .rules import ModelRules, RuleReport, reversed_feature
from .woe import WoETransformer

#: Training log-odds beyond this (PD below 1e-11 or above 1 - 1e-11) mean the regression
#: separated the sample: its PDs of 0 and 1 are artefacts, not estimates.
MAX_FITTED_LOG_ODDS = 25.0


class InsufficientDataWarning(UserWarning):
    """Fewer rows of the smaller class per feature than the policy asks for."""


class Scorecard(FittedReprMixin, ClassifierMixin, BaseEstimator):
    """Credit scorecard estimator (scikit-learn API).

    Parameters
    ----------
    binning : WoETransformer, optional
        Binning and selection settings (cloned at fit). Default ``WoETransformer()``: every
        feature, no selection (selection by IV/correlation/VIF/stepwise is opt-in there).
        Tune its parameters in a grid search as ``binning__min_bin_share`` etc.
    estimator : {"statsmodels", "sklearn"}
        ``statsmodels`` (default): unpenalised Logit with standard errors and p-values.
        ``sklearn``: LogisticRegression with regularisation ``C`` and ``l1_ratio``.
    C, l1_ratio : float
        Regularisation for ``estimator="sklearn"`` (``l1_ratio=0`` is L2, 1 is L1).
    base_score, base_odds, pdo : float, optional
        Scaling; ``None`` takes the policy's ``scorecard`` section (600 at 50:1, PDO 20).
    policy : path, mapping or Policy, optional
    n_reasons : int
        Reason codes returned by :meth:`reason_codes`.
    rules : "policy", mapping, ModelRules or None
        Model rules enforced at fit (:mod:`riskkit.scoring.rules`): the policy's
        ``scorecard.rules`` (default), overrides of them, or None for none.

    Attributes
    ----------
    binning_ : fitted WoETransformer
    features_ : list of str (the model's features)
    coef_, intercept_ : model coefficients on WoE (log-odds of bad)
    stats_ : DataFrame of coef, std_err, z, p_value (statsmodels only)
    calibration_slope_ : float (only after :meth:`cv_calibrated`; coef_ = slope * fitted)
    validation_ : RuleReport or None
        Each model rule, feature, value, limit and verdict (None when fitted without rules).
    points_ : dict feature -> float array of points per bin slot
    """

    stats_: pd.DataFrame | None
    validation_: RuleReport | None

    def __init__(
        self,
        *,
        binning=None,
        estimator="statsmodels",
        C=1.0,
        l1_ratio=0.0,
        base_score=None,
        base_odds=None,
        pdo=None,
        policy=None,
        n_reasons=4,
        rules="policy",
    ):
        self.binning = binning
        self.estimator = estimator
        self.C = C
        self.l1_ratio = l1_ratio
        self.base_score = base_score
        self.base_odds = base_odds
        self.pdo = pdo
        self.policy = policy
        self.n_reasons = n_reasons
        self.rules = rules

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_class = False  # a scorecard ranks goods against bads
        tags.input_tags.allow_nan = True  # missing values get a bin of their own
        tags.input_tags.categorical = True
        tags.target_tags.required = True
        return tags

    # ------------------------------------------------------------------ fit
    def fit(self, X, y):
        """Bin, select, fit the logistic regression under the model rules and build the
        points table.

        ``y``: two classes; the larger label is the event (bad): 1 of 0/1, True of bool.
        The rules (``rules``, policy ``scorecard.rules``) are applied in order: missing share,
        then IV, correlation and VIF in the selection, monotone numeric bins, and the expected
        sign (reversed features dropped one at a time, refitting); ``validation_`` reports
        them."""
        frame = isinstance(X, pd.DataFrame)
        X = as_frame(X)
        yv, self.classes_ = binary_target(y, X)
        rules = self.model_rules()
        binning, rows = self._configured_binning(X, rules)
        self.binning_ = binning.fit(X, yv)
        self.n_features_in_ = len(self.binning_.features_in_)
        if frame:
            self.feature_names_in_ = np.asarray(self.binning_.features_in_, dtype=object)
        features = list(self.binning_.selected_)
        W = self.binning_.transform(X, features=features)
        self.features_ = list(features)
        self._warn_if_too_few_events(yv)
        dropped = self._fit_with_signs(W, yv, features, rules)
        self._refuse_separation(W[self.features_].to_numpy(dtype=float), yv)
        self._record_sign_drops(dropped)
        if rules is not None:
            rows += rules.selection_rows(self.binning_, self.features_, W)
            rows += rules.shape_rows(self.binning_, self.features_)
            rows += rules.sign_rows(self.features_, self.coef_, dropped)
            self.validation_ = RuleReport(pd.DataFrame(rows, columns=RULE_COLUMNS))
        else:
            self.validation_ = None
        self._scale()
        return self

    def model_rules(self) -> ModelRules | None:
        """The rules this scorecard is fitted under (``rules``: "policy", a mapping, a
        ModelRules, or None for none)."""
        r = self.rules
        if r is None or r is False:
            return None
        if isinstance(r, ModelRules):
            return r
        if r == "policy":
            return ModelRules.from_policy(self.policy)
        if isinstance(r, dict):
            return ModelRules.from_policy({"scorecard": {"rules": r}})
        raise ValueError(f"rules must be 'policy', a mapping, ModelRules or None, got {r!r}")

    def _configured_binning(self, X, rules):
        binning = clone(self.binning if self.binning is not None else WoETransformer())
        if rules is None:
            return binning, []
        keep, rows = rules.missing_checks(X)
        out = {str(f): "missing share above the rule's limit" for f in X.columns}
        out = {f: why for f, why in out.items() if f not in keep}
        exclude = {**(binning.exclude or {}), **out}
        return rules.configure(binning, X).set_params(exclude=exclude or None), rows

    def _fit_with_signs(self, W, yv, features, rules) -> list:
        """Fit the regression; while a coefficient is reversed (and the rules ask), drop the
        most reversed feature and refit. Returns the dropped (feature, coef, reason)."""
        dropped: list[tuple[str, float, str]] = []
        while True:
            self.features_ = list(features)
            self._fit_regression(W[features].to_numpy(dtype=float), yv)
            if rules is None or not rules.expected_sign or len(features) == 1:
                return dropped
            bad = reversed_feature(features, self.coef_, W[features])
            if bad is None:
                return dropped
            dropped.append(bad)
            features = [f for f in features if f != bad[0]]

    def _events_per_feature(self, yv) -> tuple[int, int, float]:
        """(rows of the smaller class, features, policy minimum of such rows per feature)."""
        minority = int(min(np.sum(yv == 1), np.sum(yv == 0)))
        minimum = float(load_policy(self.policy)["scorecard"]["min_events_per_feature"])
        return minority, max(len(self.features_), 1), minimum

    def _warn_if_too_few_events(self, yv) -> None:
        minority, p, minimum = self._events_per_feature(yv)
        if minority < minimum * p:
            warnings.warn(
                f"only {minority} rows of the smaller class for {p} feature(s) "
                f"({minority / p:.1f} per feature, policy scorecard.min_events_per_feature = "
                f"{minimum:g}): the PDs will be over-confident; collect more data or use fewer "
                "features",
                InsufficientDataWarning,
                stacklevel=3,
            )

    def _refuse_separation(self, A: np.ndarray, yv) -> None:
        """A fit whose training PDs reach 0 or 1 separated the sample: refuse it."""
        lo = self.intercept_ + A @ self.coef_
        extreme = ~np.isfinite(lo) | (np.abs(lo) > MAX_FITTED_LOG_ODDS)
        if extreme.any():
            minority, p, minimum = self._events_per_feature(yv)
            raise ValueError(
                f"cannot fit this sample honestly: the model separates it (PD of 0 or 1 for "
                f"{int(extreme.sum())} of {len(lo)} rows) with {minority} rows of the smaller "
                f"class for {p} feature(s) (policy scorecard.min_events_per_feature = "
                f"{minimum:g}); collect more data, use fewer features, or use "
                "estimator='sklearn' (regularised)"
            )

    def _record_sign_drops(self, dropped) -> None:
        if not dropped:
            return
        b = self.binning_
        b.selected_ = list(self.features_)
        extra = pd.DataFrame(
            [(f, "expected_sign", why) for f, _, why in dropped], columns=b.selection_log_.columns
        )
        b.selection_log_ = pd.concat([b.selection_log_, extra], ignore_index=True)

    def _fit_regression(self, A: np.ndarray, yv: np.ndarray) -> None:
        """Logistic regression of ``yv`` on the WoE matrix ``A`` (intercept, coefficients)."""
        if self.estimator == "statsmodels":
            self._fit_statsmodels(A, yv)
        elif self.estimator == "sklearn":
            from sklearn.linear_model import LogisticRegression

            lr = LogisticRegression(
                C=self.C,
                l1_ratio=self.l1_ratio,
                solver="lbfgs" if self.l1_ratio == 0 else "saga",
                max_iter=1000,
            ).fit(A, yv)
            self.intercept_ = float(lr.intercept_[0])
            self.coef_ = lr.coef_[0].astype(float)
            self.stats_ = None
        else:
            raise ValueError(
                f"estimator must be 'statsmodels' or 'sklearn', got {self.estimator!r}"
            )

    def _fit_statsmodels(self, A: np.ndarray, yv: np.ndarray) -> None:
        import statsmodels.api as sm

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                # rank problems surface as a singular Hessian below (caught), so skip
                # statsmodels' up-front rank check (a QR of the whole design matrix)
                model = sm.Logit(
                    yv.astype(float), sm.add_constant(A, has_constant="add"), check_rank=False
                )
                res = model.fit(disp=0, method="newton", maxiter=100)
            except np.linalg.LinAlgError as exc:
                raise ValueError(
                    f"logistic regression is singular: WoE features {self.features_} are "
                    "perfectly collinear; set binning max_corr/max_vif or drop one"
                ) from exc
        params = np.asarray(res.params)
        self.intercept_ = float(params[0])
        self.coef_ = params[1:].astype(float)
        self.stats_ = pd.DataFrame(
            {
                "coef": params,
                "std_err": np.asarray(res.bse),
                "z": np.asarray(res.tvalues),
                "p_value": np.asarray(res.pvalues),
            },
            index=["intercept", *self.features_],
        )
        self.aic_ = float(res.aic)

    def _scale(self):
        sc = load_policy(self.policy)["scorecard"]
        base_score = sc["base_score"] if self.base_score is None else self.base_score
        base_odds = sc["base_odds"] if self.base_odds is None else self.base_odds
        pdo = sc["pdo"] if self.pdo is None else self.pdo
        if pdo <= 0 or base_odds <= 0:
            raise ValueError(f"pdo and base_odds must be > 0, got pdo={pdo}, odds={base_odds}")
        self.factor_ = pdo / math.log(2.0)
        self.offset_ = base_score - self.factor_ * math.log(base_odds)
        self.scaling_ = {"base_score": base_score, "base_odds": base_odds, "pdo": pdo}
        p = len(self.features_)
        share = (self.offset_ - self.factor_ * self.intercept_) / max(p, 1)
        self.points_ = {}
        self.points_int_ = {}
        for f, b in zip(self.features_, self.coef_, strict=True):
            pts = -self.factor_ * b * self.binning_.binnings_[f].woe_ + share
            self.points_[f] = pts
            self.points_int_[f] = np.floor(pts + 0.5).astype(np.int64)

    # ------------------------------------------------------------------ predict
    def _indices(self, X) -> dict:
        X = self.binning_._prepare(X, self.features_)
        return {f: self.binning_.binnings_[f].bin_index(X[f]) for f in self.features_}

    def decision_function(self, X) -> np.ndarray:
        """Log-odds of bad (the event ``classes_[1]``): ``b0 + sum_j b_j * WoE_j``."""
        check_is_fitted(self, "coef_")
        idx = self._indices(X)
        lo = np.full(len(next(iter(idx.values()))), self.intercept_)
        for f, b in zip(self.features_, self.coef_, strict=True):
            lo = lo + b * self.binning_.binnings_[f].woe_[idx[f]]
        if not np.isfinite(lo).all():  # invariant: every bin slot has a finite WoE
            raise AssertionError("non-finite log-odds; refusing to return a NaN score")
        return lo

    def predict_proba(self, X) -> np.ndarray:
        """``[P(good), P(bad)]`` per row (columns in ``classes_`` order)."""
        p = expit(self.decision_function(X))
        return np.column_stack([1.0 - p, p])

    def predict(self, X, threshold: float = 0.5) -> np.ndarray:
        """The event label (bad, ``classes_[1]``) where PD >= threshold, else ``classes_[0]``."""
        bad = self.predict_proba(X)[:, 1] >= threshold
        return self.classes_[bad.astype(np.int64)]

    def score(self, X, y, sample_weight=None) -> float:
        """ROC AUC (the usual scorecard criterion; used by GridSearchCV by default)."""
        pd_ = self.predict_proba(X)[:, 1]
        yv, _ = binary_target(y, as_frame(X))
        event = (np.asarray(_labels(y)) == self.classes_[1]).astype(np.int8)
        if not np.array_equal(yv, event):
            raise ValueError(f"y has labels other than the fitted classes {self.classes_.tolist()}")
        return float(roc_auc_score(yv, pd_, sample_weight=sample_weight))

    def points_matrix(self, X, integer: bool = True) -> pd.DataFrame:
        """Points per row and feature."""
        check_is_fitted(self, "coef_")
        X = as_frame(X)
        idx = self._indices(X)
        pts = self.points_int_ if integer else self.points_
        return pd.DataFrame({f: pts[f][idx[f]] for f in self.features_}, index=X.index)

    def credit_score(self, X, integer: bool = True) -> np.ndarray:
        """Credit score per row: the sum of (integer) points, in feature order."""
        check_is_fitted(self, "coef_")
        idx = self._indices(as_frame(X))
        pts = self.points_int_ if integer else self.points_
        total: np.ndarray = sum(pts[f][idx[f]] for f in self.features_)
        return total

    def pd_from_score(self, score) -> np.ndarray:
        """PD implied by a score: ``expit((offset - score) / factor)``."""
        check_is_fitted(self, "factor_")
        return expit((self.offset_ - np.asarray(score, dtype=float)) / self.factor_)

    def score_from_pd(self, pd_) -> np.ndarray:
        """Score implied by a PD (inverse of :meth:`pd_from_score`)."""
        p = np.asarray(pd_, dtype=float)
        return self.offset_ - self.factor_ * np.log(p / (1 - p))

    def recalibrated(self, X, target_rate: float) -> Scorecard:
        """A copy whose intercept is shifted so that the mean PD over ``X`` equals
        ``target_rate`` (the long-run default rate); coefficients, bins and the ranking are
        unchanged, every unrounded score moves by the same ``factor * shift`` points, and the
        points table, JSON and SQL follow the new intercept. The shift is in ``intercept_shift_``.
        """
        from .calibration import logodds_shift

        return self._rescaled(1.0, logodds_shift(self.decision_function(X), target_rate))

    def cv_calibrated(self, X, y, cv: int = 5, random_state=0, target_rate=None) -> Scorecard:
        """A copy calibrated out of sample: its log-odds shrunk by the cross-validated
        calibration slope.

        Binning, selection and the regression all learn from the development sample, so on it
        the PDs are too spread out (in-sample the mean PD equals the bad rate whatever the
        overfit): on new applications the best get worse and the worst better than predicted.
        This refits the whole scorecard (binning and selection included) on ``cv`` stratified
        folds of ``(X, y)``, scores each held-out fold, and fits the logistic calibration
        ``logit P(bad) = a + slope * log_odds`` on those out-of-fold log-odds. The copy has
        coefficients ``slope * coef_`` (``slope`` capped at 1: never sharpened) and an intercept
        set so that its mean PD over ``X`` equals ``target_rate`` (default: the bad rate of
        ``y``). Bins and the ranking are unchanged; points, JSON and SQL follow.

        Sets ``calibration_slope_`` (the slope applied), ``calibration_slope_raw_`` (as
        estimated) and ``intercept_shift_``. ``stats_`` keep the unshrunk fit.

        Examples
        --------
        >>> import numpy as np, pandas as pd
        >>> rng = np.random.default_rng(0)
        >>> X = pd.DataFrame(rng.normal(size=(800, 6)), columns=list("abcdef"))
        >>> y = (rng.random(800) < 1 / (1 + np.exp(2 + X["a"]))).astype(int)
        >>> cal = Scorecard().fit(X, y).cv_calibrated(X, y)
        >>> bool(cal.calibration_slope_ < 1)
        True
        >>> bool(np.isclose(cal.predict_proba(X)[:, 1].mean(), y.mean(), rtol=1e-10))
        True
        """
        from sklearn.model_selection import StratifiedKFold

        from .calibration import logodds_shift
        from .selection import logit_fit

        check_is_fitted(self, "coef_")
        X = as_frame(X)
        yv = check_target(y, X)
        oof = np.empty(len(X))
        folds = StratifiedKFold(int(cv), shuffle=True, random_state=random_state)
        for fit_rows, held_out in folds.split(X, yv):  # a loop over folds
            m = clone(self).fit(X.iloc[fit_rows], yv[fit_rows])
            oof[held_out] = m.decision_function(X.iloc[held_out])
        raw = float(np.asarray(logit_fit(yv.astype(float), oof[:, None]).params)[1])
        if not raw > 0:
            raise ValueError(
                f"out-of-fold calibration slope is {raw:.3f}: the scorecard does not rank "
                "held-out applications; simplify the model (min_iv, max_corr, stepwise)"
            )
        slope = min(raw, 1.0)
        target = float(yv.mean()) if target_rate is None else target_rate
        lo = self.decision_function(X)
        delta = logodds_shift(slope * lo, target)
        # new log-odds = slope * lo + delta = (slope * b0 + delta) + sum (slope * b_j) WoE_j
        out = self._rescaled(slope, delta + (slope - 1.0) * self.intercept_)
        out.calibration_slope_ = slope * getattr(self, "calibration_slope_", 1.0)
        out.calibration_slope_raw_ = raw
        return out

    def _rescaled(self, slope: float, intercept_delta: float) -> Scorecard:
        """Copy with ``coef_ * slope`` and ``intercept_ + intercept_delta``; re-scaled points."""
        import copy

        out = copy.deepcopy(self)
        out.coef_ = self.coef_ * slope
        out.intercept_ = self.intercept_ + intercept_delta
        out.intercept_shift_ = getattr(self, "intercept_shift_", 0.0) + intercept_delta
        out._scale()
        return out

    @property
    def rounding_bound_(self) -> float:
        """Max |integer score - exact score| for any row: p/2 points."""
        return len(self.features_) / 2.0

    # ------------------------------------------------------------------ explain
    def points_table(self) -> pd.DataFrame:
        """Every bin of every model feature with WoE, coefficient and points."""
        check_is_fitted(self, "coef_")
        rows = []
        for f, b in zip(self.features_, self.coef_, strict=True):
            ob = self.binning_.binnings_[f]
            labels = [*ob.bin_labels(), "unseen"]
            counts = [*ob.table_["count"].tolist(), 0]
            for k, lab in enumerate(labels):
                if lab == "unseen" and ob.dtype == "numeric":
                    continue
                rows.append(
                    {
                        "feature": f,
                        "bin": lab,
                        "count": counts[k],
                        "woe": ob.woe_[k],
                        "coef": b,
                        "points": self.points_[f][k],
                        "points_int": int(self.points_int_[f][k]),
                    }
                )
        return pd.DataFrame(rows)

    def _best_points(self, integer=True) -> dict:
        pts = self.points_int_ if integer else self.points_
        out = {}
        for f in self.features_:
            counts = self.binning_.binnings_[f].table_["count"].to_numpy()
            seen = np.append(counts > 0, False)
            out[f] = pts[f][seen].max()
        return out

    def reason_codes(self, X, n=None, integer: bool = True) -> pd.DataFrame:
        """The features that cost each applicant the most points versus the feature's best bin.

        Returns columns ``reason_1..n`` (feature name, or "" when nothing was lost) and
        ``points_lost_1..n``, sorted by points lost (ties by feature order).
        """
        n = self.n_reasons if n is None else n
        P = self.points_matrix(X, integer=integer)
        best = self._best_points(integer)
        L = np.column_stack([best[f] - P[f].to_numpy() for f in self.features_])
        L = np.maximum(L, 0)
        order = np.argsort(-L, axis=1, kind="stable")[:, :n]
        lost = np.take_along_axis(L, order, axis=1)
        names = np.asarray(self.features_, dtype=object)[order]
        names = np.where(lost > 0, names, "")
        out = {}
        for k in range(order.shape[1]):
            out[f"reason_{k + 1}"] = names[:, k].astype(str)
            out[f"points_lost_{k + 1}"] = lost[:, k]
        return pd.DataFrame(out, index=P.index)

    # ------------------------------------------------------------------ persistence
    def to_json(self, path=None) -> str:
        """Versioned JSON (never pickle); written atomically to ``path`` when given.

        See :mod:`riskkit.scoring.document`."""
        return scorecard_to_json(self, path)

    @classmethod
    def from_json(cls, text_or_path) -> Scorecard:
        """Rebuild a scorecard from :meth:`to_json`'s text or file.

        The whole document is checked first (types, finite numbers, array lengths consistent
        with the bins, known features and parameters, nesting depth): a bad file is a
        :class:`~riskkit.errors.ValidationError` naming the field, a missing one a
        ``FileNotFoundError``; nothing is built from a document that fails."""
        return cls._from_document(read_document(text_or_path, cls.document_params()))

    @classmethod
    def document_params(cls) -> dict[str, set[str]]:
        """Parameter names a scorecard document may hold (scorecard, binning, per feature)."""
        return {
            "params": set(cls().get_params(deep=False)) - {"binning"},
            "binning_params": set(WoETransformer().get_params(deep=False)),
            "bin_params": set(OptimalBinning().get_params(deep=False)),
        }

    @classmethod
    def _from_document(cls, doc: dict) -> Scorecard:
        bparams = doc["binning_params"]
        bt = WoETransformer(**bparams)
        bt.features_in_ = doc["features_in"]
        bt.binnings_ = {f: OptimalBinning.from_dict(d) for f, d in doc["bins"].items()}
        bt.iv_ = pd.Series(doc["iv"], name="iv").sort_values(ascending=False)
        bt.selected_ = list(doc["features"])
        bt.selection_log_ = pd.DataFrame(columns=["feature", "step", "reason"])
        sc = cls(binning=WoETransformer(**bparams), **doc["params"])
        sc.binning_ = bt
        sc.classes_ = np.asarray(doc.get("classes", [0, 1]))
        sc.features_ = list(doc["features"])
        sc.feature_names_in_ = np.asarray(bt.features_in_, dtype=object)
        sc.n_features_in_ = len(bt.features_in_)
        sc.intercept_ = float(doc["intercept"])
        if doc.get("intercept_shift"):
            sc.intercept_shift_ = float(doc["intercept_shift"])
        sc.coef_ = np.asarray(doc["coef"], dtype=float)
        if doc.get("calibration_slope", 1.0) != 1.0:  # written by Scorecard.cv_calibrated
            sc.calibration_slope_ = float(doc["calibration_slope"])
        sc.stats_ = None
        if doc["stats"] is not None:
            sc.stats_ = pd.DataFrame(doc["stats"]).set_index("index")
            sc.stats_.index.name = None
        sc.validation_ = None
        if doc.get("validation") is not None:
            sc.validation_ = RuleReport(pd.DataFrame(doc["validation"], columns=RULE_COLUMNS))
        sc.base_score = doc["scaling"]["base_score"]
        sc.base_odds = doc["scaling"]["base_odds"]
        sc.pdo = doc["scaling"]["pdo"]
        sc._scale()
        return sc

    # ------------------------------------------------------------------ display
    _fitted_attr = "coef_"

    def _fitted_repr(self) -> str:
        s = self.scaling_
        return (
            f"Scorecard({len(self.features_)} features, {s['base_score']} at "
            f"{s['base_odds']}:1, PDO {s['pdo']}, estimator={self.estimator})"
        )

    def _html_table(self) -> str:
        return self.points_table().to_html(index=False, float_format="{:.3f}".format)


def _labels(y) -> np.ndarray:
    """``y`` as a flat array of labels (a one-column frame or column vector flattened)."""
    if isinstance(y, pd.DataFrame):
        return y.iloc[:, 0].to_numpy()
    return np.asarray(y).reshape(-1)
