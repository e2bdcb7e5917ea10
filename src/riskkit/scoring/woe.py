"""``WoETransformer``: optimal binning of many features + WoE transform + feature selection.

Examples
--------
>>> import numpy as np, pandas as pd
>>> rng = np.random.default_rng(0)
>>> X = pd.DataFrame({"income": rng.normal(size=3000), "noise": rng.normal(size=3000),
...                   "segment": rng.choice(["trader", "farmer", "consumer"], 3000)})
>>> y = (rng.random(3000) < 1 / (1 + np.exp(1 + 1.5 * X["income"]))).astype(int)
>>> wt = WoETransformer(min_iv=0.02).fit(X, y)
>>> wt.selected_
['income']
>>> wt.transform(X).shape
(3000, 1)
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils import ClassifierTags
from sklearn.utils.validation import check_is_fitted

from riskkit.errors import ProblemCollector, ValidationError

from .binning import OptimalBinning
from .inputs import TABLE, FittedReprMixin, as_frame, check_columns, check_target
from .selection import select_by_correlation, select_by_iv, select_by_vif, stepwise

#: WoETransformer parameter -> OptimalBinning (optbinning) parameter it sets.
_BIN_PARAMS = {
    "n_prebins": "max_n_prebins",
    "min_bin_share": "min_bin_size",
    "max_n_bins": "max_n_bins",
    "min_bin_n_event": "min_bin_n_event",
    "min_bin_n_nonevent": "min_bin_n_nonevent",
    "monotonic_trend": "monotonic_trend",
    "auto_shape_gain": "auto_shape_gain",
    "unseen": "unseen",
}


class WoETransformer(FittedReprMixin, TransformerMixin, BaseEstimator):
    """Bin every feature optimally, select features, and transform them to WoE.

    Parameters
    ----------
    categorical_features : list of str, optional
        Features to treat as categorical even if numeric. Text/category/bool columns are
        always categorical.
    special_values : list or dict
        Special values per feature (``{feature: [...]}``), or one list for all features: its
        numbers apply to numeric columns and its strings to text columns.
    n_prebins, min_bin_share, max_n_bins, min_bin_n_event, min_bin_n_nonevent, \
monotonic_trend, auto_shape_gain, unseen
        Passed to :class:`~riskkit.scoring.binning.OptimalBinning`. ``monotonic_trend`` may be
        a dict per feature (missing features use ``"auto"``).
    manual_bins : dict, optional
        Analyst edits, ``{feature: [edges]}`` for numeric or ``{feature: [[levels], ...]}`` for
        categorical. Kept as a parameter, so every refit re-applies them. See :meth:`edit_bins`.
    min_iv, max_iv : float, optional
        Keep features with IV in ``[min_iv, max_iv]``. A feature whose rows all fall in one bin
        (constant WoE) is always dropped (step ``single_bin``).
    max_corr : float, optional
        Drop the lower-IV feature of each pair with |correlation of WoE| above this.
    max_vif : float, optional
        Drop highest-VIF features until all VIF <= this.
    stepwise : {None, "forward", "backward"}
    stepwise_criterion : {"pvalue", "aic"}
    p_enter, p_remove : float
    max_features : int, optional
    exclude : dict, optional
        ``{feature: reason}``: binned (so their bins can be shown) but never selected, with the
        reason in the selection log (step ``excluded``), e.g. a model rule's verdict.

    Attributes
    ----------
    binnings_ : dict of OptimalBinning
    features_in_ : list of str
    iv_ : pandas.Series (sorted, descending)
    selected_ : list of str
    selection_log_ : DataFrame (feature, step, reason) for dropped features
    """

    def __init__(
        self,
        *,
        categorical_features=None,
        special_values=(),
        n_prebins=20,
        min_bin_share=0.05,
        max_n_bins=None,
        min_bin_n_event=1,
        min_bin_n_nonevent=1,
        monotonic_trend="auto",
        auto_shape_gain=0.05,
        unseen="neutral",
        manual_bins=None,
        min_iv=None,
        max_iv=None,
        max_corr=None,
        max_vif=None,
        stepwise=None,
        stepwise_criterion="pvalue",
        p_enter=0.05,
        p_remove=0.05,
        max_features=None,
        exclude=None,
    ):
        self.categorical_features = categorical_features
        self.special_values = special_values
        self.n_prebins = n_prebins
        self.min_bin_share = min_bin_share
        self.max_n_bins = max_n_bins
        self.min_bin_n_event = min_bin_n_event
        self.min_bin_n_nonevent = min_bin_n_nonevent
        self.monotonic_trend = monotonic_trend
        self.auto_shape_gain = auto_shape_gain
        self.unseen = unseen
        self.manual_bins = manual_bins
        self.min_iv = min_iv
        self.max_iv = max_iv
        self.max_corr = max_corr
        self.max_vif = max_vif
        self.stepwise = stepwise
        self.stepwise_criterion = stepwise_criterion
        self.p_enter = p_enter
        self.p_remove = p_remove
        self.max_features = max_features
        self.exclude = exclude

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True  # missing values get a bin of their own
        tags.input_tags.categorical = True
        tags.target_tags.required = True
        # WoE needs a binary target (1 = bad): declared as for a binary-only classifier
        tags.classifier_tags = ClassifierTags(multi_class=False)
        # the output is WoE in float64 whatever the input dtype (and a DataFrame of named
        # features), so no input dtype is preserved
        tags.transformer_tags.preserves_dtype = []
        return tags

    # ------------------------------------------------------------------ helpers
    def _is_categorical(self, X: pd.DataFrame, f: str) -> bool:
        cats = set(self.categorical_features or ())
        dt = X[f].dtype
        return f in cats or not pd.api.types.is_numeric_dtype(dt) or pd.api.types.is_bool_dtype(dt)

    def _binner(self, f: str, categorical: bool) -> OptimalBinning:
        params = {ob: getattr(self, k) for k, ob in _BIN_PARAMS.items()}
        if isinstance(self.monotonic_trend, dict):
            params["monotonic_trend"] = self.monotonic_trend.get(f, "auto")
        sv = self.special_values
        if isinstance(sv, dict):
            sv = sv.get(f, ())
        elif sv:  # a global list applies to the features whose values have the same type
            is_num = self._numeric_col.get(f, True)
            sv = [v for v in sv if isinstance(v, (int, float, np.number)) == is_num]
        manual = (self.manual_bins or {}).get(f)
        numeric_edits = manual is not None and not categorical
        return OptimalBinning(
            name=f,
            dtype="categorical" if categorical else "numerical",
            special_codes=list(sv or ()),
            user_splits=manual if numeric_edits else None,
            user_splits_fixed=[True] * len(manual)
            if manual is not None and numeric_edits
            else None,
            user_groups=manual if (manual is not None and categorical) else None,
            **params,
        )

    # ------------------------------------------------------------------ fit
    def fit(self, X, y):
        """Bin every column of ``X`` against ``y`` (1 = bad), then run the selection steps."""
        frame = isinstance(X, pd.DataFrame)
        X = as_frame(X)
        yv = check_target(y, X)
        self.features_in_ = [str(c) for c in X.columns]
        self.n_features_in_ = len(self.features_in_)
        if frame:
            self.feature_names_in_ = np.asarray(self.features_in_, dtype=object)
        if len(set(self.features_in_)) != len(self.features_in_):
            raise ValueError("X has duplicate column names")
        X = X.set_axis(self.features_in_, axis=1)
        pc = ProblemCollector("scoring features")
        self.binnings_ = {}
        self._numeric_col = {
            f: pd.api.types.is_numeric_dtype(X[f].dtype) and not pd.api.types.is_bool_dtype(X[f])
            for f in self.features_in_
        }
        for f in self.features_in_:
            try:
                self.binnings_[f] = self._binner(f, self._is_categorical(X, f))._fit(X[f], yv)
            except ValidationError as exc:  # collect every bad feature, then raise once
                pc.problems.extend(exc.problems)
        pc.raise_if_any()
        self.iv_ = pd.Series({f: b.iv_ for f, b in self.binnings_.items()}, name="iv").sort_values(
            ascending=False
        )
        self._select(X, yv)
        return self

    def _select(self, X, yv):
        iv = self.iv_.to_dict()
        log = []
        informative = {}
        excluded = dict(self.exclude or {})
        for f, v in iv.items():  # one non-empty bin -> constant WoE: no information, always out
            if f in excluded:
                log.append((f, "excluded", excluded[f]))
            elif int((self.binnings_[f].table_["count"] > 0).sum()) <= 1:
                log.append((f, "single_bin", "all rows in one bin (constant WoE)"))
            else:
                informative[f] = v
        keep, lg = select_by_iv(informative, self.min_iv, self.max_iv)
        log += lg
        if keep and (self.max_corr is not None or self.max_vif is not None or self.stepwise):
            W = self._woe(X, keep)
            if self.max_corr is not None and len(keep) > 1:
                keep, lg = select_by_correlation(W[keep], iv, self.max_corr)
                log += lg
            if self.max_vif is not None and len(keep) > 1:
                keep, lg = select_by_vif(W[keep], self.max_vif)
                log += lg
            if self.stepwise:
                keep, lg = stepwise(
                    W[keep],
                    yv,
                    self.stepwise,
                    self.stepwise_criterion,
                    self.p_enter,
                    self.p_remove,
                    self.max_features,
                )
                log += lg
        if self.max_features is not None and len(keep) > self.max_features:
            by_iv = sorted(keep, key=lambda f: -iv[f])
            for f in by_iv[self.max_features :]:
                log.append((f, "max_features", f"beyond the top {self.max_features} by IV"))
            keep = [f for f in keep if f in set(by_iv[: self.max_features])]
        if not keep:
            raise ValueError(
                "no feature survived the selection "
                f"(log: {log[:5]}); relax min_iv/max_corr/max_vif/stepwise"
            )
        self.selected_ = [f for f in self.iv_.index if f in set(keep)]
        self.selection_log_ = pd.DataFrame(log, columns=["feature", "step", "reason"])

    # ------------------------------------------------------------------ transform
    def _woe(self, X: pd.DataFrame, features) -> pd.DataFrame:
        return pd.DataFrame({f: self.binnings_[f].transform(X[f]) for f in features}, index=X.index)

    def _prepare(self, X, features) -> pd.DataFrame:
        """``X`` with string column names, checked: every one of ``features`` present and no
        column unseen at fit (fitted but unused features may be absent)."""
        check_is_fitted(self, "binnings_")
        if not isinstance(X, pd.DataFrame | pd.Series):  # no names: columns by position
            X = as_frame(X)
            if X.shape[1] != len(self.features_in_):
                raise ValueError(
                    f"X has {X.shape[1]} features, but {type(self).__name__} is expecting "
                    f"{len(self.features_in_)} features as input"
                )
            X = X.set_axis(self.features_in_, axis=1)
        X = as_frame(X)
        X = X.set_axis([str(c) for c in X.columns], axis=1)
        unbinned = [f for f in features if f not in self.binnings_]
        if unbinned:
            raise KeyError(
                f"no fitted bins for {unbinned}; binned features: {list(self.binnings_)} "
                "(a scorecard read from JSON keeps the bins of its model features only)"
            )
        check_columns(X, list(features), self.features_in_)
        return X

    @property
    def binned_features_(self) -> list[str]:
        """Input features with fitted bins, in input order (every input feature after
        :meth:`fit`; the model features only for a scorecard read from JSON)."""
        check_is_fitted(self, "binnings_")
        return [f for f in self.features_in_ if f in self.binnings_]

    def transform(self, X, metric: str = "woe", select: bool = True, features=None):
        """WoE (or bin ``"indices"`` / ``"bins"`` labels) of the selected features.

        ``select=False`` returns every binned input feature (:attr:`binned_features_`);
        ``features`` names the columns explicitly. ``X`` must contain those columns and no
        column unseen at fit; a fitted feature the output does not need may be absent. A
        missing or unseen column raises an error naming it.
        """
        check_is_fitted(self, "binnings_")
        if features is None:
            features = self.selected_ if select else self.binned_features_
        feats = list(features)
        X = self._prepare(X, feats)
        out = pd.DataFrame(
            {f: self.binnings_[f].transform(X[f], metric=metric) for f in feats}, index=X.index
        )
        if metric == "woe" and out.isna().to_numpy().any():  # pragma: no cover - invariant
            raise AssertionError("NaN WoE produced")
        return out

    def get_feature_names_out(self, input_features=None):
        check_is_fitted(self, "selected_")
        return np.asarray(self.selected_, dtype=object)

    def binning_table(self, feature: str) -> pd.DataFrame:
        """The binning table (counts, event rate, WoE, IV per bin, totals) of one feature."""
        check_is_fitted(self, "binnings_")
        if feature not in self.binnings_:
            raise KeyError(f"unknown feature {feature!r}; known: {self.features_in_}")
        return self.binnings_[feature].binning_table()

    def summary(self) -> pd.DataFrame:
        """One row per feature: dtype, trend, bins, IV, selected and why not."""
        check_is_fitted(self, "binnings_")
        why = (
            dict(zip(self.selection_log_["feature"], self.selection_log_["reason"], strict=True))
            if len(self.selection_log_)
            else {}
        )
        rows = []
        for f in self.iv_.index:
            b = self.binnings_[f]
            rows.append(
                {
                    "feature": f,
                    "dtype": b.dtype,
                    "trend": b.trend_,
                    "n_bins": b.n_bins_,
                    "iv": b.iv_,
                    "selected": f in self.selected_,
                    "dropped_because": why.get(f, ""),
                }
            )
        return pd.DataFrame(rows)

    def edit_bins(self, feature: str, bins) -> WoETransformer:
        """Record an analyst's manual bins for ``feature`` (edges or groups of levels).

        The edit goes into ``manual_bins`` so it is kept and re-applied at every (re)fit; call
        :meth:`fit` again to apply it. ``bins=None`` removes the edit.
        """
        manual = dict(self.manual_bins or {})
        if bins is None:
            manual.pop(feature, None)
        else:
            manual[feature] = [list(g) for g in bins] if _is_groups(bins) else list(bins)
        self.manual_bins = manual
        return self

    _fitted_attr = "selected_"

    def _fitted_repr(self) -> str:
        return (
            f"WoETransformer({len(self.features_in_)} features, {len(self.selected_)} selected; "
            f"top IV: {', '.join(f'{f}={v:.3f}' for f, v in self.iv_.head(5).items())})"
        )

    def _html_table(self) -> str:
        return self.summary().to_html(index=False, float_format="{:.4f}".format)


def _is_groups(bins) -> bool:
    return len(bins) > 0 and all(isinstance(g, (list, tuple, set)) for g in bins)


__all__ = ["WoETransformer", "TABLE"]
