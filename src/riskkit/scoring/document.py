"""The scorecard's JSON document (never pickle): writing it and reading it back checked.

* :func:`scorecard_to_json`: versioned JSON (``schema`` and ``schema_version`` fields) of a
  fitted scorecard. Floats are written with Python's shortest round-trip repr, so a reloaded
  scorecard reproduces WoE, log-odds, PDs and scores bit for bit.
* :func:`read_document`: the parsed document of a JSON text or file, its schema and version
  checked; :meth:`riskkit.scoring.Scorecard.from_json` builds the scorecard from it.

This module knows the document, not the :class:`~riskkit.scoring.Scorecard` class, so the
scorecard can import it without a cycle.

Examples
--------
>>> doc = read_document('{"schema": "riskkit.scoring.Scorecard", "schema_version": 1}')
>>> doc["schema_version"]
1
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
from sklearn.utils.validation import check_is_fitted

from ..atomic import atomic_path

SCHEMA = "riskkit.scoring.Scorecard"
SCHEMA_VERSION = 1


def scorecard_to_json(sc, path=None) -> str:
    """Serialise a fitted scorecard; write it to ``path`` too when given (atomically)."""
    check_is_fitted(sc, "coef_")
    bt = sc.binning_
    doc = {
        "schema": SCHEMA,
        "schema_version": SCHEMA_VERSION,
        "params": {k: v for k, v in sc.get_params(deep=False).items() if k != "binning"},
        "binning_params": _jsonable(bt.get_params()),
        "features_in": list(bt.features_in_),
        "features": list(sc.features_),
        "classes": _jsonable(np.asarray(sc.classes_).tolist()),
        "iv": {f: float(v) for f, v in bt.iv_.items()},
        "intercept": sc.intercept_,
        "intercept_shift": float(getattr(sc, "intercept_shift_", 0.0)),
        "coef": [float(c) for c in sc.coef_],
        "calibration_slope": float(getattr(sc, "calibration_slope_", 1.0)),
        "scaling": dict(sc.scaling_),
        "bins": {f: bt.binnings_[f].to_dict() for f in sc.features_},
        "stats": None if sc.stats_ is None else sc.stats_.reset_index().to_dict(orient="list"),
        "validation": _validation(sc),
    }
    doc["params"]["policy"] = None  # scaling is stored explicitly
    text = json.dumps(_jsonable(doc), allow_nan=False, indent=1)
    if path is not None:
        with atomic_path(path) as tmp:
            tmp.write_text(text, encoding="utf-8")
    return text


def _validation(sc):
    """The model-rule report (``Scorecard.validation_``) as records, or None."""
    report = getattr(sc, "validation_", None)
    if report is None:
        return None
    t = report.table.astype(object).where(report.table.notna(), None)
    return t.to_dict(orient="list")


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


def read_document(text_or_path) -> dict:
    """The scorecard document in a JSON text or file, its schema and version checked."""
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
    return doc
