"""Input checks shared by the scoring estimators.

Every check collects all problems (naming the feature and the rule) and raises one
:class:`riskkit.errors.ValidationError`; nothing is silently dropped or coerced.
"""

from __future__ import annotations

import html

import numpy as np
import pandas as pd

from riskkit.errors import ProblemCollector

TABLE = "scoring input"


def as_frame(X, what: str = "X") -> pd.DataFrame:
    """``X`` as a DataFrame with string column names (a 2-D array gets ``x0, x1, ...``)."""
    if isinstance(X, pd.DataFrame):
        return X
    if isinstance(X, pd.Series):
        return X.to_frame()
    arr = np.asarray(X)
    if arr.ndim != 2:
        raise ValueError(f"{what} must be 2-D (rows x features), got shape {arr.shape}")
    return pd.DataFrame(arr, columns=[f"x{i}" for i in range(arr.shape[1])])


def check_target(y, X: pd.DataFrame | None = None) -> np.ndarray:
    """Binary target as an int8 array (1 = event = bad).

    Accepts bool or numeric 0/1. Rejects missing values, other values, a single class and
    a length or index that does not match ``X``.
    """
    pc = ProblemCollector("scoring target")
    if isinstance(y, pd.DataFrame):
        if y.shape[1] != 1:
            raise ValueError(f"y must be one column, got {y.shape[1]}")
        y = y.iloc[:, 0]
    ys = y if isinstance(y, pd.Series) else pd.Series(np.asarray(y))
    if X is not None:
        if len(ys) != len(X):
            pc.add(TABLE, "y", f"target has {len(ys)} rows but X has {len(X)} rows (misaligned)")
            pc.raise_if_any()
        if isinstance(y, pd.Series) and not y.index.equals(X.index):
            pc.add(
                TABLE,
                "y",
                "target index does not match X index (misaligned X/y); "
                "align them or pass y.to_numpy()",
            )
            pc.raise_if_any()
    ids = ys.index.to_numpy()
    if ys.dtype == bool:
        return ys.to_numpy().astype(np.int8)
    if not pd.api.types.is_numeric_dtype(ys.dtype):
        pc.add(TABLE, "y", f"target must be binary 0/1 or bool (1 = bad), got dtype {ys.dtype}")
        pc.raise_if_any()
    vals = ys.to_numpy(dtype=float, na_value=np.nan)
    pc.check(TABLE, "y", np.isnan(vals), ids, "target is missing")
    pc.check(
        TABLE,
        "y",
        ~np.isnan(vals) & (vals != 0) & (vals != 1),
        ids,
        "target must be binary 0/1 (1 = bad)",
    )
    pc.raise_if_any()
    n_event = int(vals.sum())
    if n_event == 0 or n_event == len(vals):
        pc.add(TABLE, "y", f"target has a single class (all {int(vals[0])}); need goods and bads")
        pc.raise_if_any()
    return vals.astype(np.int8)


def check_columns(
    X: pd.DataFrame, required: list[str], known: list[str] | None = None, what: str = "scoring"
) -> None:
    """``X`` must contain every ``required`` column; any column outside ``known`` (default:
    ``required``) is an error too (unseen column). Columns in ``known`` but not ``required``
    (features seen at fit that the model does not use) are optional."""
    pc = ProblemCollector(f"{what} input")
    cols = [str(c) for c in X.columns]
    allowed = set(required if known is None else known) | set(required)
    for c in (c for c in required if c not in set(cols)):
        pc.add(TABLE, c, "feature used by the model is missing from X")
    for c in (c for c in cols if c not in allowed):
        pc.add(TABLE, c, "column not seen at fit (unseen column); drop it or refit")
    pc.raise_if_any()


def numeric_values(s: pd.Series, feature: str) -> np.ndarray:
    """Float array of a numeric feature; NaN/None are missing, +-inf is an error."""
    if not (pd.api.types.is_numeric_dtype(s.dtype) or s.dtype == bool):
        raise_problem(
            feature, f"numeric feature has non-numeric dtype {s.dtype}; declare it categorical"
        )
    x = s.to_numpy(dtype=float, na_value=np.nan)
    bad = np.isinf(x)
    if bad.any():
        pc = ProblemCollector(f"feature {feature!r}")
        pc.check(TABLE, feature, bad, s.index.to_numpy(), "infinite value (only NaN = missing)")
        pc.raise_if_any()
    return x


def raise_problem(feature: str, rule: str) -> None:
    pc = ProblemCollector(f"feature {feature!r}")
    pc.add(TABLE, feature, rule)
    pc.raise_if_any()


class FittedReprMixin:
    """``__repr__`` / ``_repr_html_`` of the scoring estimators: sklearn's parameter repr until
    fitted (attribute ``_fitted_attr`` set), then ``_fitted_repr()`` in bold over
    ``_html_table()``. Put it first among the bases so it wins over BaseEstimator's."""

    _fitted_attr = ""

    def _fitted_repr(self) -> str:  # pragma: no cover - overridden
        raise NotImplementedError

    def _html_table(self) -> str:  # pragma: no cover - overridden
        raise NotImplementedError

    def __repr__(self, N_CHAR_MAX=700):
        if not hasattr(self, self._fitted_attr):
            return super().__repr__(N_CHAR_MAX)
        return self._fitted_repr()

    def _repr_html_(self) -> str:
        if not hasattr(self, self._fitted_attr):
            return f"<pre>{html.escape(super().__repr__())}</pre>"
        return f"<b>{html.escape(repr(self))}</b>" + self._html_table()
