"""Parameterized report notebooks and the scheduled month-end run (papermill).

- :func:`run_report` / :func:`run_all`: execute ``notebooks/<name>.ipynb`` for an as-of date
  into ``reports/<as-of>/<name>/`` (executed notebook, code-free HTML, ``metrics.json``),
  atomically, with failures kept apart and logged in ``reports/index.html``.
- :func:`start_report`: the first call of every report notebook (validates parameters).
- :mod:`riskkit.reports.params`: parameter specifications and validation.
- :mod:`riskkit.reports.narrative`: English and Chinese report text.

Command line: ``riskkit report run NAME --as-of DATE``, ``riskkit report run-all --as-of DATE``,
``riskkit report list``, ``riskkit demo``.
"""

from . import committee_pack as _committee_pack  # noqa: F401  (registers the report)
from .context import Report, start_report, write_json_atomic
from .index import read_runs
from .params import REPORTS, Param, ReportSpec, validate_params
from .runner import (
    BATCH,
    RunResult,
    available_reports,
    batch_reports,
    ensure_kernel,
    run_all,
    run_report,
)

__all__ = [
    "BATCH",
    "REPORTS",
    "Param",
    "Report",
    "ReportSpec",
    "RunResult",
    "available_reports",
    "batch_reports",
    "ensure_kernel",
    "read_runs",
    "run_all",
    "run_report",
    "start_report",
    "validate_params",
    "write_json_atomic",
]
