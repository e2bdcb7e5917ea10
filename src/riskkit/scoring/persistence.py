"""Saving and deploying a :class:`~riskkit.scoring.scorecard.Scorecard` without pickle.

* :func:`scorecard_to_json` / :func:`scorecard_from_json`: versioned JSON (``schema`` and
  ``schema_version`` fields). Floats are written with Python's shortest round-trip repr, so a
  reloaded scorecard reproduces WoE, log-odds, PDs and scores bit for bit.
* :func:`points_to_excel`: the points table as an .xlsx sheet (openpyxl), with a scaling sheet.
* :func:`scorecard_to_sql`: one SQL expression (a sum of ``CASE`` expressions, integer points)
  that reproduces :meth:`Scorecard.credit_score` in SQLite (and any SQL with ``CASE``).

Examples
--------
>>> import numpy as np, pandas as pd
>>> from riskkit.scoring import Scorecard
>>> rng = np.random.default_rng(0)
>>> X = pd.DataFrame({"income": rng.normal(size=2000)})
>>> y = (rng.random(2000) < 1 / (1 + np.exp(2 + X["income"]))).astype(int)
>>> sc = Scorecard().fit(X, y)
>>> again = Scorecard.from_json(sc.to_json())
>>> bool((again.predict_proba(X) == sc.predict_proba(X)).all())
True
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd

from ..atomic import atomic_path

SCHEMA = "riskkit.scoring.Scorecard"
SCHEMA_VERSION = 1


def scorecard_to_json(sc, path=None) -> str:
    """Serialise a fitted scorecard; write it to ``path`` too when given (atomically)."""
    from sklearn.utils.validation import check_is_fitted

    check_is_fitted(sc, "coef_")
    bt = sc.binning_
    doc = {
        "schema": SCHEMA,
        "schema_version": SCHEMA_VERSION,
        "params": {k: v for k, v in sc.get_params(deep=False).items() if k != "binning"},
        "binning_params": _jsonable(bt.get_params()),
        "features_in": list(bt.features_in_),
        "features": list(sc.features_),
        "iv": {f: float(v) for f, v in bt.iv_.items()},
        "intercept": sc.intercept_,
        "intercept_shift": float(getattr(sc, "intercept_shift_", 0.0)),
        "coef": [float(c) for c in sc.coef_],
        "calibration_slope": float(getattr(sc, "calibration_slope_", 1.0)),
        "scaling": dict(sc.scaling_),
        "bins": {f: bt.binnings_[f].to_dict() for f in sc.features_},
        "stats": None if sc.stats_ is None else sc.stats_.reset_index().to_dict(orient="list"),
    }
    doc["params"]["policy"] = None  # scaling is stored explicitly
    text = json.dumps(_jsonable(doc), allow_nan=False, indent=1)
    if path is not None:
        with atomic_path(path) as tmp:
            tmp.write_text(text, encoding="utf-8")
    return text


def scorecard_from_json(text_or_path):
    """Rebuild a scorecard saved by :func:`scorecard_to_json` (checks the schema version)."""
    from .binning import OptimalBinning
    from .scorecard import Scorecard
    from .woe import WoETransformer

    text = str(text_or_path)
    if not text.lstrip().startswith("{"):
        text = Path(text_or_path).read_text(encoding="utf-8")
    doc = json.loads(text)
    if doc.get("schema") != SCHEMA:
        raise ValueError(f"not a riskkit scorecard JSON (schema={doc.get('schema')!r})")
    if doc.get("schema_version") != SCHEMA_VERSION:
        raise ValueError(
            f"scorecard JSON schema_version {doc.get('schema_version')} is not supported "
            f"(this riskkit reads version {SCHEMA_VERSION})"
        )
    bparams = doc["binning_params"]
    bt = WoETransformer(**bparams)
    bt.features_in_ = doc["features_in"]
    bt.binnings_ = {f: OptimalBinning.from_dict(d) for f, d in doc["bins"].items()}
    bt.iv_ = pd.Series(doc["iv"], name="iv").sort_values(ascending=False)
    bt.selected_ = list(doc["features"])
    bt.selection_log_ = pd.DataFrame(columns=["feature", "step", "reason"])
    sc = Scorecard(binning=WoETransformer(**bparams), **doc["params"])
    sc.binning_ = bt
    sc.classes_ = np.array([0, 1])
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
    sc.base_score = doc["scaling"]["base_score"]
    sc.base_odds = doc["scaling"]["base_odds"]
    sc.pdo = doc["scaling"]["pdo"]
    sc._scale()
    return sc


def _jsonable(o):
    if isinstance(o, dict):
        return {str(k): _jsonable(v) for k, v in o.items()}
    if isinstance(o, (list, tuple)):
        return [_jsonable(v) for v in o]
    if isinstance(o, np.ndarray):
        return [_jsonable(v) for v in o.tolist()]
    if isinstance(o, np.generic):
        return _jsonable(o.item())
    if isinstance(o, float) and not math.isfinite(o):
        return None if math.isnan(o) else ("inf" if o > 0 else "-inf")
    return o


# ---------------------------------------------------------------------------- Excel


def points_to_excel(sc, path) -> Path:
    """Write the points table (sheet ``points``) and the scaling (sheet ``scaling``) to xlsx."""
    path = Path(path)
    with atomic_path(path) as tmp, pd.ExcelWriter(tmp, engine="openpyxl") as xw:
        sc.points_table().to_excel(xw, sheet_name="points", index=False)
        scal = {**sc.scaling_, "factor": sc.factor_, "offset": sc.offset_}
        scal["intercept"] = sc.intercept_
        pd.DataFrame({"key": list(scal), "value": list(scal.values())}).to_excel(
            xw, sheet_name="scaling", index=False
        )
    return path


# ---------------------------------------------------------------------------- SQL


def _sql_literal(v) -> str:
    if isinstance(v, str):
        return "'" + v.replace("'", "''") + "'"
    if isinstance(v, bool):
        return str(int(v))
    if isinstance(v, (int, np.integer)):
        return str(int(v))
    return repr(float(v))


def _quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def feature_case_sql(sc, feature: str, integer: bool = True) -> str:
    """``CASE`` expression giving the points of one feature (NULL = missing)."""
    ob = sc.binning_.binnings_[feature]
    pts = sc.points_int_[feature] if integer else sc.points_[feature]
    fmt = (lambda v: str(int(v))) if integer else (lambda v: repr(float(v)))
    col = _quote_ident(feature)
    B = ob.n_bins_
    S = len(ob.special_values_)
    parts = [f"WHEN {col} IS NULL THEN {fmt(pts[B + S])}"]
    for k, v in enumerate(ob.special_values_):
        parts.append(f"WHEN {col} = {_sql_literal(v)} THEN {fmt(pts[B + k])}")
    if ob.splits_ is not None:
        for k, s in enumerate(ob.splits_):
            parts.append(f"WHEN {col} < {repr(float(s))} THEN {fmt(pts[k])}")
        parts.append(f"ELSE {fmt(pts[B - 1])}")
    else:
        for k, g in enumerate(ob.categories_):
            lits = ", ".join(_sql_literal(v) for v in g)
            parts.append(f"WHEN {col} IN ({lits}) THEN {fmt(pts[k])}")
        unseen_slot = B + S + (1 if ob.unseen == "neutral" else 0)
        parts.append(f"ELSE {fmt(pts[unseen_slot])}")
    return "CASE " + " ".join(parts) + " END"


def scorecard_to_sql(sc, table: str | None = None, integer: bool = True) -> str:
    """SQL expression for the credit score (sum of per-feature CASE expressions).

    With ``table`` given, returns ``SELECT *, <expr> AS score FROM table``. Missing values
    must be stored as NULL. Categorical levels unseen at fit score as documented for
    ``unseen`` (``"error"`` cannot be expressed in SQL and scores as neutral).
    """
    expr = " + ".join(f"({feature_case_sql(sc, f, integer)})" for f in sc.features_)
    if table is None:
        return expr
    return f"SELECT *, {expr} AS score FROM {_quote_ident(table)}"
