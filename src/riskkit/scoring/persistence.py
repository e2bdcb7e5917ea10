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

from pathlib import Path

import numpy as np
import pandas as pd

from ..atomic import atomic_path
from . import document
from .scorecard import Scorecard


def scorecard_to_json(sc, path=None) -> str:
    """Serialise a fitted scorecard (see :mod:`riskkit.scoring.document`)."""
    return document.scorecard_to_json(sc, path)


def scorecard_from_json(text_or_path) -> Scorecard:
    """Rebuild a scorecard saved by :func:`scorecard_to_json` (same as ``Scorecard.from_json``)."""
    return Scorecard.from_json(text_or_path)


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
