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
>>> read_document('{"schema": "riskkit.scoring.Scorecard", "schema_version": 2}')
Traceback (most recent call last):
...
riskkit.errors.ValidationError: 1 problem(s) in scorecard JSON:
  - scorecard.schema_version: scorecard JSON schema_version 2 is not supported (this riskkit reads version 1)
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path

import numpy as np
from sklearn.utils.validation import check_is_fitted

from ..atomic import atomic_path
from ..errors import ProblemCollector
from .document_check import check_document

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


def read_document(text_or_path, allowed_params: dict[str, set[str]] | None = None) -> dict:
    """The scorecard document in a JSON text or file, checked whole
    (:func:`~riskkit.scoring.document_check.check_document`).

    Raises
    ------
    riskkit.errors.ValidationError
        Not a scorecard document: not JSON, another schema or version, or any field wrong
        (each named); also text that is neither JSON nor a path.
    FileNotFoundError
        A path that does not exist.
    """
    doc = _parse(_document_text(text_or_path))
    if not isinstance(doc, dict):
        _refuse(
            "",
            f"a scorecard JSON document is an object {{...}} as Scorecard.to_json writes it, "
            f"got a JSON {type(doc).__name__}",
        )
    if doc.get("schema") != SCHEMA:
        _refuse("schema", f"not a riskkit scorecard JSON (schema={doc.get('schema')!r})")
    if doc.get("schema_version") != SCHEMA_VERSION:
        _refuse(
            "schema_version",
            f"scorecard JSON schema_version {doc.get('schema_version')} is not supported "
            f"(this riskkit reads version {SCHEMA_VERSION})",
        )
    check_document(doc, allowed_params)
    return doc


_EXPECTED = (
    "expected a scorecard JSON document (text starting with '{') or the path of a .json file"
)


def _refuse(field: str, rule: str):
    pc = ProblemCollector("scorecard JSON")
    pc.add("scorecard", field, rule)
    pc.raise_if_any()


def _document_text(text_or_path) -> str:
    """The JSON text: given directly, or read from the file a path names."""
    if not isinstance(text_or_path, str | os.PathLike):
        _refuse("", f"{_EXPECTED}, got {type(text_or_path).__name__}")
    if isinstance(text_or_path, str) and text_or_path.lstrip()[:1] in ("{", "["):
        return text_or_path
    if isinstance(text_or_path, str) and (
        not text_or_path.strip() or "\n" in text_or_path or len(text_or_path) > 4096
    ):
        _refuse("", f"{_EXPECTED}, got {text_or_path[:40]!r}")
    path = Path(text_or_path)
    try:
        if path.is_dir():
            _refuse("", f"{_EXPECTED}; {path} is a folder")
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise FileNotFoundError(f"no scorecard file at {path} ({_EXPECTED})") from None
    except (OSError, ValueError) as exc:  # unreadable, not UTF-8, NUL in the name
        _refuse("", f"{_EXPECTED}; cannot read {str(path)[:80]!r}: {exc}")
    raise AssertionError("unreachable")


def _parse(text: str):
    try:
        return json.loads(text)
    except RecursionError:
        _refuse("", "nested too deep to be a scorecard document")
    except ValueError as exc:
        _refuse("", f"not JSON ({exc}); a scorecard file is what Scorecard.to_json writes")
