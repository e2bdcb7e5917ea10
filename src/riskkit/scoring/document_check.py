"""Validation of a scorecard's JSON document before anything is built from it.

A model file is input: it may be truncated, edited by hand or not a scorecard at all. The whole
document is checked at load (types, finite numbers within sane bounds, array lengths that
agree with the bins, features the model knows, nesting depth) and every problem is reported at
once as a :class:`~riskkit.errors.ValidationError` naming the field (``bins.income.woe``), so a
bad file never scores garbage (a 1e308 coefficient gave scores of INT64_MIN) or fails later
with an ``IndexError``.

Examples
--------
>>> check_document({"schema": "riskkit.scoring.Scorecard", "schema_version": 1})
Traceback (most recent call last):
...
riskkit.errors.ValidationError: 10 problem(s) in scorecard JSON:
  - scorecard.params: missing (expected an object)
...
  - scorecard.intercept: missing (expected a number)
...
"""

from __future__ import annotations

import math

from ..errors import ProblemCollector

#: Deepest nesting a scorecard document has (bins -> feature -> categories -> group -> level
#: is 5); deeper documents are refused before they are walked.
MAX_DEPTH = 12
#: Bounds on the numbers of a scorecard: far beyond any fitted model, well inside what the
#: points arithmetic can carry to int64 scores.
MAX_ABS_COEF = 1e4
MAX_ABS_WOE = 100.0
MAX_ABS_SCALE = 1e6
UNSEEN = ("neutral", "missing", "error")


def depth(obj, limit: int = MAX_DEPTH) -> int:
    """Nesting depth of a JSON value (stops counting past ``limit``)."""
    deepest, stack = 0, [(obj, 0)]
    while stack:
        o, d = stack.pop()
        deepest = max(deepest, d)
        if d > limit:
            break
        if isinstance(o, dict):
            stack.extend((v, d + 1) for v in o.values())
        elif isinstance(o, list):
            stack.extend((v, d + 1) for v in o)
    return deepest


def _is_number(v) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool)


def _scalar(v) -> bool:
    return v is None or isinstance(v, str | bool) or (_is_number(v) and math.isfinite(v))


class _Checker:
    """Collects problems, each under the dotted name of the field."""

    def __init__(self):
        self.pc = ProblemCollector("scorecard JSON")

    def bad(self, field: str, rule: str) -> None:
        self.pc.add("scorecard", field, rule)

    def get(self, doc: dict, key: str, kind: type | tuple, field: str, *, optional=False):
        """``doc[key]`` if it has type ``kind`` (None and a problem otherwise)."""
        if key not in doc:
            if not optional:
                self.bad(field, f"missing (expected {_kind_name(kind)})")
            return None
        v = doc[key]
        if not isinstance(v, kind) or isinstance(v, bool) and bool not in _as_tuple(kind):
            self.bad(field, f"expected {_kind_name(kind)}, got {_show(v)}")
            return None
        return v

    def number(self, v, field: str, bound: float, positive: bool = False) -> float | None:
        if not _is_number(v) or not math.isfinite(v):
            self.bad(field, f"expected a finite number, got {_show(v)}")
            return None
        if abs(v) > bound or (positive and v <= 0):
            where = f"in (0, {bound:g}]" if positive else f"within ±{bound:g}"
            self.bad(field, f"must be {where}, got {v!r}")
            return None
        return float(v)

    def numbers(self, v, field: str, bound: float, n: int | None = None, why: str = ""):
        if not isinstance(v, list):
            self.bad(field, f"expected a list of numbers, got {_show(v)}")
            return None
        if n is not None and len(v) != n:
            self.bad(field, f"has {len(v)} values, expected {n}{why}")
            return None
        ok = [self.number(x, f"{field}[{i}]", bound) for i, x in enumerate(v)]
        return None if any(x is None for x in ok) else ok

    def names(self, v, field: str) -> list[str] | None:
        if not isinstance(v, list) or not all(isinstance(x, str) and x for x in v):
            self.bad(field, f"expected a list of feature names, got {_show(v)}")
            return None
        if len(set(v)) != len(v):
            self.bad(field, "names a feature more than once")
            return None
        return v


def _as_tuple(kind) -> tuple:
    return kind if isinstance(kind, tuple) else (kind,)


def _kind_name(kind) -> str:
    words = {dict: "an object", list: "a list", str: "text", int: "an integer", float: "a number"}
    return " or ".join(words.get(k, k.__name__) for k in _as_tuple(kind))


def _show(v) -> str:
    text = repr(v)
    return f"{type(v).__name__} {text[:60]}{'…' if len(text) > 60 else ''}"


def check_document(doc, allowed_params: dict[str, set[str]] | None = None) -> None:
    """Raise a ValidationError listing every problem of a scorecard document.

    ``allowed_params`` maps ``"params"``, ``"binning_params"`` and ``"bin_params"`` to the
    parameter names the estimators accept (unknown names are problems).
    """
    c = _Checker()
    if not isinstance(doc, dict):
        c.bad("", f"a scorecard JSON document is an object {{...}}, got {_show(doc)}")
        c.pc.raise_if_any()
    if depth(doc) > MAX_DEPTH:
        c.bad("", f"nested deeper than {MAX_DEPTH} levels: not a scorecard document")
        c.pc.raise_if_any()
    _check_params(c, doc, allowed_params or {})
    features = _check_features(c, doc)
    _check_model(c, doc, features)
    _check_scaling(c, doc)
    bins = c.get(doc, "bins", dict, "bins")
    if bins is not None and features is not None:
        if set(bins) != set(features):
            c.bad("bins", f"has bins for {sorted(bins)}, expected exactly {features}")
        for f in features:
            if isinstance(bins.get(f), dict):
                check_bins(c, bins[f], f"bins.{f}", f, (allowed_params or {}).get("bin_params"))
            elif f in bins:
                c.bad(f"bins.{f}", f"expected an object, got {_show(bins[f])}")
    _check_stats(c, doc)
    c.pc.raise_if_any()


def _check_params(c: _Checker, doc: dict, allowed: dict) -> None:
    for key in ("params", "binning_params"):
        params = c.get(doc, key, dict, key)
        if params is None:
            continue
        unknown = sorted(set(params) - allowed[key]) if key in allowed else []
        if unknown:
            c.bad(key, f"unknown parameter(s) {unknown}")
        for name, v in params.items():
            if depth(v) > 2:
                c.bad(f"{key}.{name}", "nested too deep for a parameter value")
    params = doc.get("params")
    if isinstance(params, dict) and params.get("policy") is not None:
        # the scaling is stored in the document; a model file never names a file to read
        c.bad(
            "params.policy", f"must be null (the scaling is stored), got {_show(params['policy'])}"
        )
    if isinstance(params, dict) and "n_reasons" in params:
        n = params["n_reasons"]
        if not isinstance(n, int) or isinstance(n, bool) or not 0 <= n <= 1000:
            c.bad("params.n_reasons", f"expected an integer 0..1000, got {_show(n)}")


def _check_features(c: _Checker, doc: dict) -> list[str] | None:
    raw_in = c.get(doc, "features_in", list, "features_in")
    raw = c.get(doc, "features", list, "features")
    features_in = c.names(raw_in, "features_in") if raw_in is not None else None
    features = c.names(raw, "features") if raw is not None else None
    if features_in is not None and features is not None:
        unknown = [f for f in features if f not in features_in]
        if unknown:
            c.bad("features", f"{unknown} are not among features_in {features_in}")
            return None
    iv = c.get(doc, "iv", dict, "iv")
    if iv is not None and features_in is not None:
        unknown = sorted(set(iv) - set(features_in))
        if unknown:
            c.bad("iv", f"IV of unknown feature(s) {unknown}")
        for f, v in iv.items():
            c.number(v, f"iv.{f}", MAX_ABS_SCALE)
    classes = doc.get("classes", [0, 1])
    if not isinstance(classes, list) or len(classes) != 2 or not all(map(_scalar, classes)):
        c.bad("classes", f"expected the two class labels, got {_show(classes)}")
    return features


def _check_model(c: _Checker, doc: dict, features: list[str] | None) -> None:
    if "intercept" not in doc:
        c.bad("intercept", "missing (expected a number)")
    else:
        c.number(doc["intercept"], "intercept", MAX_ABS_COEF)
    for key, bound in (("intercept_shift", MAX_ABS_COEF), ("calibration_slope", MAX_ABS_COEF)):
        if key in doc:
            c.number(doc[key], key, bound)
    n = len(features) if features is not None else None
    if "coef" not in doc:
        c.bad("coef", "missing (expected a list of numbers)")
    else:
        c.numbers(doc["coef"], "coef", MAX_ABS_COEF, n, " (one per feature)")


def _check_scaling(c: _Checker, doc: dict) -> None:
    scaling = c.get(doc, "scaling", dict, "scaling")
    if scaling is None:
        return
    c.number(scaling.get("base_score"), "scaling.base_score", MAX_ABS_SCALE)
    c.number(scaling.get("base_odds"), "scaling.base_odds", MAX_ABS_SCALE, positive=True)
    c.number(scaling.get("pdo"), "scaling.pdo", MAX_ABS_SCALE, positive=True)


def _check_table(c: _Checker, table, field: str, what: str) -> bool:
    """A table as ``{column: [values]}``: lists of one length holding numbers or text."""
    if not isinstance(table, dict) or not table:
        c.bad(field, f"expected {what}, got {_show(table)}")
        return False
    lengths = {len(v) if isinstance(v, list) else -1 for v in table.values()}
    if len(lengths) != 1 or -1 in lengths:
        c.bad(field, "columns must be lists of one length")
        return False
    ok = True
    for k, v in table.items():
        if not all(map(_scalar, v)):
            c.bad(f"{field}.{k}", "holds values that are not numbers or text")
            ok = False
    return ok


def _check_stats(c: _Checker, doc: dict) -> None:
    """The coefficient table (required, may be null) and the rule report (optional)."""
    if "stats" not in doc:
        c.bad("stats", "missing (expected null or the coefficient table)")
    elif doc["stats"] is not None:
        stats = doc["stats"]
        if (
            _check_table(c, stats, "stats", "null or the coefficient table")
            and "index" not in stats
        ):
            c.bad("stats", "the coefficient table has no index column")
    if doc.get("validation") is not None:
        _check_table(c, doc["validation"], "validation", "null or the model-rule report")


#: Fields of one feature's bins (``OptimalBinning.to_dict``).
BIN_FIELDS = (
    "name",
    "dtype",
    "params",
    "splits",
    "categories",
    "special_values",
    "woe",
    "iv",
    "trend",
    "table",
    "n",
    "n_event",
)


def check_bins(c: _Checker, b: dict, field: str, name: str, allowed: set[str] | None) -> None:
    """One feature's bins: kind, splits or groups, specials, and WoE of the right length."""
    missing = [k for k in BIN_FIELDS if k not in b]
    if missing:
        c.bad(field, f"missing field(s) {missing}")
        return
    if b["trend"] is not None and not isinstance(b["trend"], str):
        c.bad(f"{field}.trend", f"expected text or null, got {_show(b['trend'])}")
    if b.get("name") != name:
        c.bad(f"{field}.name", f"expected {name!r}, got {_show(b.get('name'))}")
    params = c.get(b, "params", dict, f"{field}.params")
    if params is not None:
        unknown = sorted(set(params) - allowed) if allowed is not None else []
        if unknown:
            c.bad(f"{field}.params", f"unknown parameter(s) {unknown}")
        if params.get("unseen", "neutral") not in UNSEEN:
            c.bad(f"{field}.params.unseen", f"must be one of {list(UNSEEN)}")
    n_bins = _regular_bins(c, b, field)
    specials = c.get(b, "special_values", list, f"{field}.special_values")
    if specials is not None and not _special_values_ok(specials, b.get("dtype")):
        c.bad(f"{field}.special_values", "must be distinct numbers (or text, categorical)")
        specials = None
    if n_bins is not None and specials is not None:
        n = n_bins + len(specials) + 2
        why = f" ({n_bins} bins + {len(specials)} special + missing + unseen)"
        c.numbers(b.get("woe"), f"{field}.woe", MAX_ABS_WOE, n, why)
    _check_counts(c, b, field)


def _regular_bins(c: _Checker, b: dict, field: str) -> int | None:
    dtype = b.get("dtype")
    if dtype == "numerical":
        if b.get("categories") is not None:
            c.bad(f"{field}.categories", "must be null for a numerical feature")
        splits = c.numbers(b.get("splits"), f"{field}.splits", math.inf)
        if splits is None:
            return None
        if any(b2 <= a for a, b2 in zip(splits, splits[1:], strict=False)):
            c.bad(f"{field}.splits", "must increase strictly")
            return None
        return len(splits) + 1
    if dtype == "categorical":
        if b.get("splits") is not None:
            c.bad(f"{field}.splits", "must be null for a categorical feature")
        groups = b.get("categories")
        if not isinstance(groups, list) or not groups or not all(_levels(g) for g in groups):
            c.bad(f"{field}.categories", f"expected non-empty lists of levels, got {_show(groups)}")
            return None
        levels = [v for g in groups for v in g]
        if None in levels or len(set(levels)) != len(levels):
            c.bad(f"{field}.categories", "a level is missing or in more than one group")
            return None
        return len(groups)
    c.bad(f"{field}.dtype", f"expected 'numerical' or 'categorical', got {_show(dtype)}")
    return None


def _special_values_ok(values: list, dtype) -> bool:
    def ok(v) -> bool:
        number = _is_number(v) and math.isfinite(v)
        return number or (dtype == "categorical" and isinstance(v, str))

    return all(map(ok, values)) and len(set(values)) == len(values)


def _levels(g) -> bool:
    return isinstance(g, list) and len(g) > 0 and all(map(_scalar, g))


def _check_counts(c: _Checker, b: dict, field: str) -> None:
    n, events = b.get("n"), b.get("n_event")
    counts = [v for v in (n, events) if isinstance(v, int) and not isinstance(v, bool)]
    if len(counts) != 2 or not 0 <= counts[1] <= counts[0]:
        c.bad(f"{field}.n", f"expected counts 0 <= n_event <= n, got n={n!r}, n_event={events!r}")
    c.number(b.get("iv"), f"{field}.iv", MAX_ABS_SCALE)
    _check_table(c, b.get("table"), f"{field}.table", "the binning table")
