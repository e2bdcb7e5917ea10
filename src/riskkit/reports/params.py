"""Report parameters: one specification per notebook, and the validator that restores types.

Papermill passes parameters through text: ``-p branch 0042`` arrives as the integer ``42``,
``-p as_of 20261031`` as an integer and any date as a string; YAML reads ``0042`` as an octal
number. Each report notebook therefore calls :func:`validate_params` (through
:func:`riskkit.reports.start_report`) in the cell after its ``parameters`` cell: the
specification says what every parameter is, values are converted to that type, and every
problem is collected and raised at once as a :class:`riskkit.errors.ValidationError` naming the
report, the parameter and the rule.

Examples
--------
>>> p = validate_params("post_loan_review", {"as_of": "2026-10-31", "branch": 42})
>>> p["as_of"], p["branch"], p["language"]
(Timestamp('2026-10-31 00:00:00'), '42', 'en')
>>> validate_params("post_loan_review", {"as_of": "2026-02-30"})
Traceback (most recent call last):
...
riskkit.errors.ValidationError: 1 problem(s) in parameters of report 'post_loan_review':
  - parameters.as_of: not a valid date (expected YYYY-MM-DD), got '2026-02-30'
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from ..book.parsing import is_full_date
from ..errors import ProblemCollector, ValidationError
from ..privacy import mask_text, personal_data_kinds

_MISSING = object()

#: Parameter kinds understood by the validator.
KINDS = ("date", "str", "int", "float", "bool", "choice", "list", "mapping", "path")


@dataclass(frozen=True)
class Param:
    """One notebook parameter.

    Parameters
    ----------
    name : str
    kind : {"date", "str", "int", "float", "bool", "choice", "list", "mapping", "path"}
        ``list`` is a list of strings (a comma-separated string is accepted); ``mapping`` a
        dict (a JSON or YAML string is accepted); ``path`` a file path (made absolute by the
        runner, so it survives the notebook running in another directory).
    default : object
        Value when not given; leave unset for a required parameter.
    help : str
    choices : tuple, optional
        Allowed values (kind ``choice``, or elements of a ``list``).
    min, max : float, optional
        Bounds for ``int`` and ``float``.
    nullable : bool
        Whether ``None`` is allowed.
    """

    name: str
    kind: str
    default: Any = _MISSING
    help: str = ""
    choices: tuple = ()
    min: float | None = None
    max: float | None = None
    nullable: bool = False

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"parameter {self.name!r}: unknown kind {self.kind!r}")

    @property
    def required(self) -> bool:
        return self.default is _MISSING


#: Report names: lower-case letters, digits and underscores, starting with a letter. A name is
#: never a path: the runner only runs registered reports (``notebooks/<name>.ipynb``).
NAME_PATTERN = re.compile(r"[a-z][a-z0-9_]*")


@dataclass(frozen=True)
class ReportSpec:
    """A report notebook: its name, title, parameters and whether run-all includes it.

    ``scope`` names the parameters that narrow the report to a part of the book (for example
    ``branch``); a scoped run is published at its own address, beside the all-book report.
    """

    name: str
    title: str
    params: tuple[Param, ...]
    description: str = ""
    in_batch: bool = True
    extra: dict = field(default_factory=dict)
    scope: tuple[str, ...] = ()

    def __post_init__(self):
        if not NAME_PATTERN.fullmatch(self.name):
            raise ValueError(f"report name {self.name!r} must match {NAME_PATTERN.pattern}")
        unknown = [s for s in self.scope if s not in self.names]
        if unknown:
            raise ValueError(f"report {self.name!r}: scope parameters {unknown} are not parameters")

    def param(self, name: str) -> Param:
        for p in self.params:
            if p.name == name:
                return p
        raise KeyError(name)

    @property
    def names(self) -> list[str]:
        return [p.name for p in self.params]


# Parameters every report notebook has. The runner sets ``as_of``, ``output_dir`` and
# ``db_url``; ``language`` selects the narrative (English or Chinese).
COMMON = (
    Param("as_of", "date", help="as-of date of the report (month-end), YYYY-MM-DD"),
    Param("language", "choice", "en", "narrative language", choices=("en", "zh")),
    Param("db_url", "str", None, "SQLAlchemy URL of the riskkit store", nullable=True),
    Param("output_dir", "path", None, "where metrics.json and artefacts go", nullable=True),
)

#: Where a report on the loan book runs and which book it reads (:mod:`riskkit.engine`).
ENGINE = (
    Param(
        "engine",
        "choice",
        "pandas",
        "where the month-end runs: pandas (one process) or dask (partitions as tasks)",
        choices=("pandas", "dask"),
    ),
    Param(
        "scheduler",
        "str",
        None,
        "Dask scheduler address, e.g. tcp://host:8786 (default: a local cluster)",
        nullable=True,
    ),
    Param(
        "book_path",
        "path",
        None,
        "loan book to report on, e.g. a partitioned Parquet dataset (default: the store's)",
        nullable=True,
    ),
)

#: Parameters of every report on the loan book.
BOOK = COMMON + ENGINE

REPORTS: dict[str, ReportSpec] = {}


def register(spec: ReportSpec) -> ReportSpec:
    """Add a report specification (used for the bundled notebooks and by tests)."""
    REPORTS[spec.name] = spec
    return spec


def registered_report(name) -> ReportSpec:
    """The specification of registered report ``name``.

    Raises
    ------
    riskkit.errors.ValidationError
        ``name`` is not a registered report (a path, an unknown name, not text); the message
        lists the registered reports.
    """
    spec = REPORTS.get(name) if isinstance(name, str) else None
    if spec is not None and NAME_PATTERN.fullmatch(name):
        return spec
    pc = ProblemCollector("report name")
    rule = "is not a registered report" if isinstance(name, str) else "must be text"
    pc.add("report", "name", f"{mask_text(repr(name))} {rule}; reports: {sorted(REPORTS)}")
    raise ValidationError(pc.problems, pc.what)


register(
    ReportSpec(
        "post_loan_review",
        "Post-loan review",
        BOOK
        + (
            Param("branch", "str", None, "only this branch", nullable=True),
            Param("officer", "str", None, "only this loan officer (officer_id)", nullable=True),
            Param("policy_file", "path", None, "institution policy YAML", nullable=True),
            Param("appendix_rows", "int", 200, "loans listed in the appendix", min=0, max=100_000),
            Param("watch_rows", "int", 50, "loans listed on the watch list", min=0, max=100_000),
            Param(
                "detected_signals",
                "bool",
                False,
                "let signals detected from the data "
                "(income vs installments, collateral value) adjust categories",
            ),
        ),
        "Five-category classification and changes vs last month, NPL and provisions, "
        "inspections due/overdue, risk-signal watch list, loan appendix (PII masked).",
        scope=("branch", "officer"),
    )
)


register(
    ReportSpec(
        "portfolio_migration",
        "Portfolio migration",
        BOOK
        + (
            Param(
                "history_months",
                "int",
                12,
                "monthly steps of history to estimate from",
                min=1,
                max=120,
            ),
            Param("horizon_months", "int", 12, "projection horizon in months", min=1, max=120),
            Param(
                "scenarios",
                "mapping",
                {"downside": {"z": None}, "adverse": {"z": None}},
                "stress scenarios on an annual footing: name -> {z: Z of the year, or a list "
                "per year} (null: the policy scenario of that name) or {down_multiplier: "
                "value} (every month)",
            ),
            Param(
                "amortisation",
                "float",
                0.0,
                "monthly run-off rate of live balances",
                min=0.0,
                max=1.0,
            ),
            Param("new_disbursements", "float", 0.0, "new lending per month (RMB)", min=0.0),
            Param(
                "detected_signals",
                "bool",
                False,
                "let signals detected from the data adjust categories",
            ),
            Param("policy_file", "path", None, "institution policy YAML", nullable=True),
        ),
        "Monthly migration matrices (count and balance weighted, with confidence intervals), "
        "n-month matrix, lifetime PD by category, projected balance / NPL ratio / provisions / "
        "expected loss, stress scenarios beside the baseline.",
    )
)


register(
    ReportSpec(
        "provisioning",
        "Provisions and expected credit loss",
        BOOK
        + (
            Param(
                "history_months",
                "int",
                12,
                "monthly steps of history the ECL migration matrices are estimated from",
                min=1,
                max=120,
            ),
            Param(
                "lgd_history_months",
                "int",
                None,
                "months of history searched for defaults and workouts (default: the book's life)",
                nullable=True,
                min=1,
                max=240,
            ),
            Param(
                "horizon_months",
                "int",
                None,
                "lifetime horizon of the ECL (default: policy ecl.horizon_months)",
                nullable=True,
                min=1,
                max=360,
            ),
            Param(
                "provisions_held",
                "float",
                None,
                "loan-loss provisions booked, RMB (default: the category-based provisions)",
                nullable=True,
                min=0.0,
            ),
            Param("policy_file", "path", None, "institution policy YAML", nullable=True),
        ),
        "Expected credit loss (CAS 22 / IFRS 9) by stage with its month-on-month movement, "
        "provisioning adequacy against the regulator's floors, realised LGD with confidence "
        "intervals, write-offs and recoveries of the month.",
    )
)


DATA = (
    Param(
        "data_source",
        "choice",
        "sample_book",
        "where the scoring sample comes from",
        choices=("sample_book", "german_credit", "file"),
    ),
    Param("data_file", "path", None, "CSV/Parquet sample (data_source=file)", nullable=True),
    Param("target", "str", None, "target column (default per source)", nullable=True),
    Param("bad_value", "str", None, "target value meaning bad (default per source)", nullable=True),
    Param("date_column", "str", None, "application date column", nullable=True),
    Param(
        "target_horizon_months",
        "int",
        None,
        "outcome window after disbursement in months (sample book; default: policy "
        "scorecard.outcome)",
        min=1,
        max=60,
        nullable=True,
    ),
    Param(
        "bad_missed_periods",
        "int",
        None,
        "bad also at this many consecutive missed periods in the window (sample book; "
        "default: policy scorecard.outcome)",
        min=0,
        max=36,
        nullable=True,
    ),
)

register(
    ReportSpec(
        "score_calibration",
        "Score calibration",
        BOOK
        + DATA
        + (
            Param("test_share", "float", 0.3, "share held out for validation", min=0.05, max=0.9),
            Param(
                "holdout_months",
                "int",
                6,
                "last months of dated applications kept out of time (not in development)",
                min=1,
                max=60,
            ),
            Param("model_name", "str", "application_scorecard", "registry name of the draft"),
            Param("author", "str", "score_calibration report", "who registers the draft"),
            Param("seed", "int", 0, "random seed of the split", min=0),
            Param("max_bins", "int", 6, "maximum bins per feature", min=2, max=50),
            Param(
                "min_bin_share", "float", 0.05, "minimum share of rows per bin", min=0.0, max=0.5
            ),
            Param(
                "monotonic_trend",
                "choice",
                "auto",
                "event-rate trend over the bins",
                choices=("auto", "ascending", "descending", "peak", "valley", "none"),
            ),
            Param("min_iv", "float", 0.02, "minimum information value to keep a feature", min=0.0),
            Param(
                "base_score", "float", None, "score at base odds (default: policy)", nullable=True
            ),
            Param(
                "base_odds",
                "float",
                None,
                "good:bad odds at the base score",
                nullable=True,
                min=0.0,
            ),
            Param("pdo", "float", None, "points to double the odds", nullable=True, min=0.0),
            Param(
                "target_rate",
                "float",
                None,
                "long-run default rate to calibrate PD to",
                nullable=True,
                min=0.0,
                max=1.0,
            ),
            Param("policy_file", "path", None, "institution policy YAML", nullable=True),
        ),
        "Scorecard fitted under the model rules on the development window, registered as a "
        "draft in the model registry and saved as scorecard.json; validation in time and out of "
        "time: AUC/Gini/KS with intervals, gains, calibration curve and per-grade tests.",
    )
)

register(
    ReportSpec(
        "model_monitoring",
        "Model monitoring",
        BOOK
        + DATA
        + (
            Param(
                "scorecard_path",
                "path",
                None,
                "scorecard JSON outside the registry (default: the approved champion)",
                nullable=True,
            ),
            Param("freq", "choice", "Q", "monitoring period", choices=("M", "Q", "Y")),
            Param(
                "reference_periods", "int", 1, "first periods forming the reference", min=1, max=120
            ),
            Param("policy_file", "path", None, "institution policy YAML", nullable=True),
        ),
        "The approved champion out of time: PSI and CSI by period against its development "
        "window, AUC/KS with intervals, calibration per grade, each check with a traffic light.",
    )
)


register(
    ReportSpec(
        "model_validation",
        "Model validation",
        BOOK
        + DATA
        + (
            Param(
                "model_name",
                "str",
                None,
                "registered model (default: latest draft, else the approved champion)",
                nullable=True,
            ),  # fmt: skip
            Param(
                "model_version", "int", None, "its version (default: latest)", nullable=True, min=1
            ),  # fmt: skip
            Param("seed", "int", 0, "random seed of the challenger", min=0),
            Param("policy_file", "path", None, "institution policy YAML", nullable=True),
        ),
        "A registered scorecard (draft or approved) as a validator reads it: data and outcome "
        "definition, discrimination with intervals in and out of time, calibration per grade, "
        "stability, a gradient-boosting challenger, the model rules, and the findings to sign.",
    )
)


def spec_for(name: str) -> ReportSpec:
    """The :class:`ReportSpec` of report ``name`` (KeyError listing known reports)."""
    try:
        return REPORTS[name]
    except KeyError:
        raise KeyError(f"unknown report {name!r}; known reports: {sorted(REPORTS)}") from None


# --- conversion ---------------------------------------------------------------------------


class ParameterValueError(Exception):
    """A value that cannot be converted; the message is the rule broken."""


def parse_date(v):
    """A date parameter as a normalised, timezone-naive Timestamp: a full ISO date (a time is
    dropped), ``YYYYMMDD`` text or integer (papermill turns ``-p as_of 20261031`` into an int),
    or a date object. ``ParameterValueError`` otherwise (``2026-05``, ``""``, NaT, a timezone)."""
    value: object
    if isinstance(v, int | np.integer) and not isinstance(v, bool):
        v = str(int(v))
    if isinstance(v, str):
        s = v.strip()
        if s.isdigit() and len(s) == 8:
            s = f"{s[:4]}-{s[4:6]}-{s[6:]}"
        if not is_full_date(s):
            _bad_date(v)
        value = s
    elif isinstance(v, pd.Timestamp | dt.datetime | dt.date | np.datetime64):
        value = v
    else:
        _bad_date(v)
    try:
        ts = pd.Timestamp(value)
    except (ValueError, TypeError, OverflowError):
        _bad_date(v)
    if ts is pd.NaT or ts.tz is not None:
        _bad_date(v)
    return ts.normalize()


def _bad_date(v):
    raise ParameterValueError(f"not a valid date (expected YYYY-MM-DD), got {v!r}")


def _to_str(v):
    if isinstance(v, str):
        return v
    if isinstance(v, int | np.integer) and not isinstance(v, bool):
        # papermill/YAML turned an identifier such as "0042" into a number; the string form is
        # kept and checked against the data by the notebook (leading zeros cannot be restored).
        return str(int(v))
    raise ParameterValueError(f"must be text, got {type(v).__name__} {v!r}")


def _to_int(v):
    if isinstance(v, bool):
        raise ParameterValueError(f"must be an integer, got {v!r}")
    if isinstance(v, int | np.integer):
        return int(v)
    if isinstance(v, float | np.floating) and math.isfinite(v) and float(v).is_integer():
        return int(v)
    if isinstance(v, str):
        try:
            return int(v.strip().replace("_", ""))
        except ValueError:
            pass
    raise ParameterValueError(f"must be an integer, got {v!r}")


def _to_float(v):
    if isinstance(v, bool):
        raise ParameterValueError(f"must be a number, got {v!r}")
    if isinstance(v, int | float | np.integer | np.floating):
        out = float(v)
    elif isinstance(v, str):
        try:
            out = float(v.strip())
        except ValueError:
            raise ParameterValueError(f"must be a number, got {v!r}") from None
    else:
        raise ParameterValueError(f"must be a number, got {v!r}")
    if not math.isfinite(out):
        raise ParameterValueError(f"must be a finite number, got {v!r}")
    return out


_TRUE = {"true", "yes", "1", "on"}
_FALSE = {"false", "no", "0", "off"}


def _to_bool(v):
    if isinstance(v, bool | np.bool_):
        return bool(v)
    if isinstance(v, int | np.integer) and int(v) in (0, 1):
        return bool(v)
    if isinstance(v, str) and v.strip().lower() in _TRUE | _FALSE:
        return v.strip().lower() in _TRUE
    raise ParameterValueError(f"must be true or false, got {v!r}")


def _to_list(v, p: Param):
    if isinstance(v, str):
        items = [s.strip() for s in v.split(",") if s.strip()]
    elif isinstance(v, list | tuple):
        items = [_to_str(x) for x in v]
    else:
        raise ParameterValueError(f"must be a list or a comma-separated string, got {v!r}")
    if p.choices:
        bad = [x for x in items if x not in p.choices]
        if bad:
            raise ParameterValueError(f"unknown value(s) {bad}; allowed: {list(p.choices)}")
    return items


def _to_mapping(v):
    if isinstance(v, str):
        try:
            v = yaml.safe_load(v)
        except (yaml.YAMLError, ValueError, RecursionError) as e:  # ValueError: bad dates
            raise ParameterValueError(f"must be a mapping (JSON or YAML text): {e}") from None
    if not isinstance(v, Mapping):
        raise ParameterValueError(f"must be a mapping, got {v!r}")
    try:
        return json.loads(json.dumps(dict(v), default=str))
    except (ValueError, RecursionError) as e:  # circular or too deep
        raise ParameterValueError(f"must be a plain mapping: {e}") from None


def convert(p: Param, v):
    """Convert ``v`` to the type of parameter ``p``; raise ``ParameterValueError`` with the rule broken."""
    if v is None:
        if p.nullable:
            return None
        raise ParameterValueError("is required (got None)")
    if isinstance(v, str) and p.nullable and v.strip().lower() in ("", "none", "null"):
        return None
    if p.kind == "date":
        return parse_date(v)
    if p.kind == "str":
        return _to_str(v)
    if p.kind == "path":
        return str(Path(_to_str(v)).expanduser())
    if p.kind == "choice":
        s = _to_str(v)
        if s not in p.choices:
            raise ParameterValueError(f"must be one of {list(p.choices)}, got {v!r}")
        return s
    if p.kind == "bool":
        return _to_bool(v)
    if p.kind == "list":
        return _to_list(v, p)
    if p.kind == "mapping":
        return _to_mapping(v)
    out = _to_int(v) if p.kind == "int" else _to_float(v)
    if p.min is not None and out < p.min:
        raise ParameterValueError(f"must be >= {p.min:g}, got {out!r}")
    if p.max is not None and out > p.max:
        raise ParameterValueError(f"must be <= {p.max:g}, got {out!r}")
    return out


def validate_params(name: str, values: Mapping, *, allow_unknown: bool = False) -> dict:
    """Typed parameters of report ``name`` from raw ``values``.

    Missing optional parameters take their defaults. Every problem (unknown name, missing
    required parameter, unconvertible value, out-of-range value) is collected and raised once.

    Parameters
    ----------
    name : str
        Report name (see :data:`REPORTS`).
    values : mapping
        Raw values, as papermill, the CLI or a YAML file delivered them.
    allow_unknown : bool, default False

    Returns
    -------
    dict
        Parameter name -> typed value (dates as normalised :class:`pandas.Timestamp`).

    Raises
    ------
    riskkit.errors.ValidationError
    """
    spec = spec_for(name)
    problems = ProblemCollector(f"parameters of report {name!r}")
    out: dict[str, object] = {}
    for p in spec.params:
        v = values.get(p.name, _MISSING)
        if v is _MISSING:
            if p.required:
                problems.add("parameters", p.name, f"is required ({p.help})")
                continue
            v = p.default
            if v is None:
                out[p.name] = None
                continue
        try:
            out[p.name] = convert(p, v)
        except ParameterValueError as e:
            problems.add("parameters", p.name, str(e))
    if not allow_unknown:
        for k in values:
            if k not in spec.names:
                problems.add(
                    "parameters", str(k), f"unknown parameter; known parameters: {spec.names}"
                )
    _refuse_personal_data(out, problems)
    problems.raise_if_any()
    return out


def _refuse_personal_data(typed: Mapping, problems: ProblemCollector) -> None:
    """Parameters are ids, dates, numbers and choices: a value that reads as an ID or phone
    number is refused, so personal data never reaches a notebook, a path or the run log."""
    for k, v in typed.items():
        if v is None or isinstance(v, bool | int | float | pd.Timestamp):
            continue
        text = v if isinstance(v, str) else json.dumps(v, ensure_ascii=False, default=str)
        kinds = personal_data_kinds(text)
        if kinds:
            problems.add(
                "parameters",
                str(k),
                f"looks like personal data ({', '.join(kinds)}: {mask_text(text)}); report "
                "parameters are loan, officer and branch ids, never ID or phone numbers",
            )


def scope_of(spec: ReportSpec, typed: Mapping) -> dict[str, str]:
    """The scope of a run: ``spec.scope`` parameters that are set (name -> text)."""
    return {k: str(typed[k]) for k in spec.scope if typed.get(k) not in (None, "")}


def to_papermill(name: str, typed: Mapping) -> dict:
    """Typed parameters as plain JSON values for papermill (dates as ``YYYY-MM-DD``)."""
    out = {}
    for k, v in typed.items():
        if isinstance(v, pd.Timestamp):
            v = v.strftime("%Y-%m-%d")
        out[k] = v
    return out


def parse_cli_assignments(items) -> dict:
    """``["key=value", ...]`` from ``-p`` options, values kept as text for typed conversion.

    Raises
    ------
    ValueError
        For an item without ``=`` or with an empty key.
    """
    out = {}
    for item in items or ():
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise ValueError(f"-p expects key=value, got {item!r}")
        out[key.strip()] = value
    return out


def load_params_file(path, name: str | None = None) -> dict:
    """Parameters from a YAML (or JSON) file: a mapping of parameter name to value.

    Text-like parameters (``str``, ``date``, ``choice``, ``path``, ``list``) are read as
    written, so ``branch: 0042`` stays ``"0042"`` instead of YAML's octal 34; other parameters
    use YAML's types.
    """
    text = Path(path).read_text(encoding="utf-8")
    typed = yaml.safe_load(text) or {}
    raw = yaml.load(text, Loader=yaml.BaseLoader) or {}
    if not isinstance(typed, Mapping):
        raise ValueError(f"{path}: a parameters file must hold a mapping of name: value")
    spec = REPORTS.get(name) if name else None
    out = {}
    for k, v in typed.items():
        kind = None
        if spec is not None and k in spec.names:
            kind = spec.param(k).kind
        if kind in ("str", "date", "choice", "path") and v is not None:
            out[k] = raw[k] if not isinstance(raw[k], list | dict) else v
        elif kind == "list" and isinstance(raw[k], list):
            out[k] = raw[k]
        else:
            out[k] = v
    return out
