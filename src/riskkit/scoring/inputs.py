"""Input checks shared by the scoring estimators.

Every check collects all problems (naming the feature and the rule) and raises one
:class:`riskkit.errors.ValidationError`; nothing is silently dropped or coerced.
"""

from __future__ import annotations

import html

import numpy as np
import pandas as pd
import scipy.sparse as sp

from riskkit.errors import ProblemCollector

TABLE = "scoring input"


def as_frame(X, what: str = "X") -> pd.DataFrame:
    """``X`` as a DataFrame with string column names (a 2-D array gets ``x0, x1, ...``).

    Refuses (with a message naming the rule) ``None``, sparse matrices, complex numbers, empty
    input and values that are neither text nor numbers; an object array's numeric columns
    become float, its text columns stay text (categorical features).
    """
    if X is None:
        raise ValueError(f"{what} is None; expected a DataFrame or a 2-D array")
    if sp.issparse(X):
        raise TypeError(f"sparse {what} is not supported: pass a dense DataFrame or array")
    if isinstance(X, pd.Series):
        X = X.to_frame()
    if isinstance(X, pd.DataFrame):
        _check_shape(X.shape, what)
        return X
    arr = np.asarray(X)
    if arr.ndim != 2:
        raise ValueError(
            f"{what} must be 2-D (rows x features), got shape {arr.shape}. Reshape your data: "
            "x.reshape(-1, 1) for a single feature, x.reshape(1, -1) for a single row"
        )
    if np.iscomplexobj(arr):
        raise ValueError(f"Complex data not supported in {what}")
    _check_shape(arr.shape, what)
    cols = [f"x{i}" for i in range(arr.shape[1])]
    if arr.dtype != object:
        return pd.DataFrame(arr, columns=cols)
    return pd.DataFrame({c: _object_column(arr[:, i], c) for i, c in enumerate(cols)})


def _check_shape(shape, what: str) -> None:
    if shape[0] == 0:
        raise ValueError(f"{what} has 0 sample(s) (shape={tuple(shape)}); need at least one row")
    if shape[1] == 0:
        raise ValueError(
            f"{what} has 0 feature(s) (shape={tuple(shape)}) while a minimum of 1 is required."
        )


def _object_column(values: np.ndarray, name: str):
    """Numbers of an object column as float; text stays text; anything else is an error."""
    kinds = {type(v) for v in values}
    number = (int, float, np.integer, np.floating, bool, np.bool_, type(None))
    if all(issubclass(k, number) for k in kinds):
        return values.astype(float)
    bad = [k for k in kinds if not issubclass(k, (str, *number))]
    if bad:
        raise TypeError(
            f"column {name}: a value of type {bad[0].__name__}; argument must be a string or "
            "a real number"
        )
    return values


def _target_series(y, X) -> pd.Series:
    """``y`` as a Series (a one-column frame or column vector with a DataConversionWarning)."""
    if y is None:
        raise ValueError(
            "this estimator requires y to be passed, but the target y is None "
            "(a 0/1 or bool column, 1 = bad)"
        )
    if isinstance(y, pd.DataFrame):
        if y.shape[1] != 1:
            raise ValueError(f"y must be one column, got {y.shape[1]}")
        return y.iloc[:, 0]
    if isinstance(y, pd.Series):
        return y
    arr = np.asarray(y)
    if arr.ndim == 2 and arr.shape[1] == 1:
        import warnings

        from sklearn.exceptions import DataConversionWarning

        warnings.warn(
            "A column-vector y was passed when a 1d array was expected; it is used as one",
            DataConversionWarning,
            stacklevel=3,
        )
        arr = arr.ravel()
    if arr.ndim != 1:
        raise ValueError(f"y must be 1-D (one label per row), got shape {arr.shape}")
    return pd.Series(arr, index=X.index if X is not None and len(X) == len(arr) else None)


def binary_target(y, X: pd.DataFrame | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The event indicator (int8, 1 = bad) and the two class labels (non-event, event).

    The event is the larger label, as in scikit-learn: 1 of 0/1, True of a bool target, the
    second in sort order otherwise. Rejects missing labels, a continuous target, more or fewer
    than two classes, text labels ``good``/``bad`` (which would sort ``bad`` first: encode them
    as 0/1) and a length or index that does not match ``X``.
    """
    pc = ProblemCollector("scoring target")
    ys = _target_series(y, X)
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
    pc.check(TABLE, "y", ys.isna().to_numpy(), ys.index.to_numpy(), "target is missing")
    pc.raise_if_any()
    values = ys.to_numpy()
    if ys.dtype.kind == "f" and not np.all(values == np.round(values)):
        from sklearn.utils.multiclass import type_of_target

        raise ValueError(
            f"Unknown label type: {type_of_target(values)}. The target must be binary "
            "(two classes, e.g. 0/1 with 1 = bad)"
        )
    classes = np.unique(values)
    return _event(values, classes, pc), classes


def _event(values, classes, pc) -> np.ndarray:
    if len(classes) == 1:
        pc.add(TABLE, "y", f"target has one class (all {classes[0]!r}); need goods and bads")
    elif len(classes) > 2:
        shown = ", ".join(repr(c) for c in classes[:5].tolist())
        pc.add(
            TABLE,
            "y",
            f"Only binary classification is supported. The target (1 = bad) has {len(classes)} "
            f"classes: {shown}",
        )
    elif {str(c).strip().lower() for c in classes} == {"good", "bad"}:
        pc.add(
            TABLE, "y", "text labels good/bad: encode the binary target as 0/1 or bool (1 = bad)"
        )
    pc.raise_if_any()
    return (values == classes[1]).astype(np.int8)


def check_target(y, X: pd.DataFrame | None = None) -> np.ndarray:
    """Binary target as an int8 event indicator (1 = event = bad); see :func:`binary_target`."""
    return binary_target(y, X)[0]


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
            return super().__repr__(N_CHAR_MAX)  # type: ignore[call-arg]  # BaseEstimator's
        return self._fitted_repr()

    def _repr_html_(self) -> str:
        if not hasattr(self, self._fitted_attr):
            return f"<pre>{html.escape(super().__repr__())}</pre>"
        return f"<b>{html.escape(repr(self))}</b>" + self._html_table()
