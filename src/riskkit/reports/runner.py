"""Run report notebooks with papermill: validated parameters, atomic output, failure semantics.

Each run of registered report ``NAME`` for as-of date ``D`` writes ``reports/D/NAME/`` (a run
scoped with ``-p branch=X`` writes ``reports/D/NAME@branch=X/``, see
:mod:`riskkit.reports.paths`):

- ``NAME.ipynb``: the executed notebook (with the injected parameters);
- ``NAME.html``: the report without code (nbconvert ``--no-input``), figures as PNG;
- ``metrics.json``: the key figures the notebook recorded;
- ``run.json``: parameters, timings and versions; plus any artefact the notebook saved
  (for example ``scorecard.json``).

The notebook executes inside a private temporary folder next to the target, which is renamed
into place only when everything succeeded, so a re-run replaces the previous good report and a
failed run never damages it. A failed or timed-out run (cell error, timeout, dead kernel,
missing metrics, personal data or the password in the output, bad parameters) keeps what it
produced in ``<folder>.failed/`` with ``error.txt``, is logged as failed in
``reports/runs.json`` and ``reports/index.html``, and leaves the last good report in place.

What the runner guarantees (tested by grepping every artefact of real runs):

- only registered reports run (:func:`~riskkit.reports.params.registered_report`), from their
  notebook inside the notebooks folder; every path written or deleted is checked to lie inside
  the reports directory first;
- the store URL reaches the kernel through its environment, never the notebook, and is shown
  masked (``***``); the kernel keeps no IPython history;
- one check (:mod:`riskkit.reports.scrub`) masks every file of a run, good or failed, and every
  line of the run log, index, ``error.txt`` and terminal output; parameters that read as ID or
  phone numbers are refused;
- one run per report address at a time (a lock); leftovers of killed runs are cleaned at the
  next start; an unreadable run log is moved aside.
"""

from __future__ import annotations

import json
import os
import sys
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from ..errors import ProblemCollector, ValidationError
from ..privacy import Redactor, mask_url, url_secrets
from .context import METRICS_FILE, write_json_atomic
from .index import append_run
from .kernel import DB_URL_ENV, execute_notebook
from .params import (
    REPORTS,
    ParameterValueError,
    ReportSpec,
    load_params_file,
    parse_date,
    registered_report,
    scope_of,
    to_papermill,
    validate_params,
)
from .paths import (
    ReportBusyError,
    RunPaths,
    UnsafePathError,
    address_folder,
    address_lock,
    check_folder_name,
    clean_leftovers,
    inside,
    scope_text,
)
from .scrub import scrub_folder

#: Reports of the month-end batch, in run order (score_calibration registers a draft scorecard
#: that model_validation reads; model_monitoring monitors the approved champion). Only
#: registered reports whose notebook exists are run.
BATCH = (
    "score_calibration",
    "model_validation",
    "post_loan_review",
    "portfolio_migration",
    "provisioning",
    "model_monitoring",
)

DEFAULT_TIMEOUT = 1800.0
#: Cells with this tag (e.g. the notebook's how-to-run note) are left out of the HTML report.
HIDE_TAG = "hide-in-report"


def default_notebooks_dir() -> Path:
    """``$RISKKIT_NOTEBOOKS``, else the repository's ``notebooks/``, else ``./notebooks``."""
    env = os.environ.get("RISKKIT_NOTEBOOKS")
    if env:
        return Path(env)
    repo = Path(__file__).resolve().parents[3] / "notebooks"
    if repo.is_dir():
        return repo
    return Path.cwd() / "notebooks"


def available_reports(notebooks_dir=None) -> list[str]:
    """Registered reports whose notebook exists, in batch order."""
    nb_dir = Path(notebooks_dir) if notebooks_dir else default_notebooks_dir()
    names = [n for n in BATCH if n in REPORTS] + sorted(set(REPORTS) - set(BATCH))
    return [n for n in names if (nb_dir / f"{n}.ipynb").exists()]


def batch_reports(notebooks_dir=None) -> list[str]:
    """The reports ``run-all`` runs: available and marked ``in_batch``."""
    return [n for n in available_reports(notebooks_dir) if REPORTS[n].in_batch]


def kernel_installed(kernel_name: str) -> bool:
    from jupyter_client.kernelspec import KernelSpecManager

    return kernel_name in KernelSpecManager().find_kernel_specs()


def ensure_kernel(kernel_name: str = "riskkit") -> bool:
    """Install the ipykernel spec ``kernel_name`` for this Python into ``sys.prefix`` if missing.

    Returns True when it had to be installed. Same as the Makefile's
    ``python -m ipykernel install --sys-prefix --name riskkit``.
    """
    if kernel_installed(kernel_name):
        return False
    from ipykernel.kernelspec import install

    install(prefix=sys.prefix, kernel_name=kernel_name, display_name=f"{kernel_name} (.venv)")
    return True


def resolve_db_url(db_url: str | None) -> str:
    """An absolute store URL (relative SQLite paths made absolute against the current dir)."""
    from sqlalchemy.engine import make_url

    from ..store import default_url

    url = make_url(db_url or default_url())
    if url.drivername.startswith("sqlite") and url.database and url.database != ":memory:":
        p = Path(url.database)
        if not p.is_absolute():
            url = url.set(database=str(p.resolve()))
    return url.render_as_string(hide_password=False)


@dataclass
class RunResult:
    """Outcome of one report run (``scope``: the parameters that narrowed it, if any)."""

    name: str
    as_of: str
    status: str
    duration_s: float
    path: str | None = None
    failed_path: str | None = None
    error: str | None = None
    metrics: dict = field(default_factory=dict)
    scope: dict = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    def __repr__(self) -> str:
        where = self.path if self.ok else self.failed_path
        tail = "" if self.ok else f", error={self.error!r}"
        scope = f" [{scope_text(self.scope)}]" if self.scope else ""
        return (
            f"RunResult({self.name!r}{scope}, as_of={self.as_of}, {self.status}, "
            f"{self.duration_s:.1f} s, {where}{tail})"
        )


class RunFailure(Exception):
    """A run failed for a reason the runner states (the message is the error shown)."""


@dataclass(frozen=True)
class RunOptions:
    """How to run: kernel, limits, where the notebooks are, progress output."""

    kernel_name: str = "riskkit"
    timeout: float = DEFAULT_TIMEOUT
    start_timeout: float = 120
    notebooks_dir: Path | None = None
    progress: bool = True
    lock_wait: float = 0.0


def _now() -> str:
    return datetime.now(UTC).astimezone().isoformat(timespec="seconds")


def _log_default(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def error_text(exc: BaseException, timeout: float) -> str:
    """The error shown for an exception raised while executing a notebook."""
    from nbclient.exceptions import CellTimeoutError, DeadKernelError
    from papermill.exceptions import PapermillExecutionError

    if isinstance(exc, PapermillExecutionError):
        lines = [ln for ln in str(exc.evalue).splitlines() if ln.strip()]
        return f"cell {exc.exec_count}: {exc.ename}: {' | '.join(lines[:6])}"
    if isinstance(exc, CellTimeoutError | TimeoutError):
        return f"timed out: the report did not finish within {timeout:g} s"
    if isinstance(exc, DeadKernelError):
        return f"kernel died: {exc}"
    return f"{type(exc).__name__}: {exc}"


def export_html(nb, path: Path, title: str) -> None:
    """Code-free HTML of an executed notebook (``--no-input``; stderr streams and cells tagged
    ``hide-in-report`` dropped)."""
    import copy

    from nbconvert import HTMLExporter

    nb = copy.deepcopy(nb)
    nb.cells = [c for c in nb.cells if HIDE_TAG not in c.get("metadata", {}).get("tags", [])]
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs = [
                o
                for o in cell.outputs
                if not (o.get("output_type") == "stream" and o.get("name") == "stderr")
            ]
    exporter = HTMLExporter(
        exclude_input=True, exclude_input_prompt=True, exclude_output_prompt=True
    )
    body, _ = exporter.from_notebook_node(nb, resources={"metadata": {"name": title}})
    path.write_text(body, encoding="utf-8")


def as_of_text(name: str, as_of) -> str:
    """``as_of`` as ``YYYY-MM-DD``; ValidationError naming the parameter otherwise."""
    try:
        return parse_date(as_of).strftime("%Y-%m-%d")
    except ParameterValueError as e:
        pc = ProblemCollector(f"parameters of report {name!r}")
        pc.add("parameters", "as_of", str(e))
        raise ValidationError(pc.problems, pc.what) from None


def gather_params(name: str, params: Mapping | None, params_file) -> dict:
    """Raw parameters: the file's, then ``params`` (which win)."""
    raw: dict = {}
    if params_file:
        try:
            raw.update(load_params_file(params_file, name))
        except (OSError, ValueError) as exc:  # yaml errors are ValueErrors too
            pc = ProblemCollector(f"parameters file of report {name!r}")
            pc.add("parameters", "file", f"cannot read {params_file}: {exc}")
            raise ValidationError(pc.problems, pc.what) from None
    raw.update(params or {})
    return raw


def run_report(
    name: str,
    as_of,
    params: Mapping | None = None,
    params_file=None,
    reports_dir="reports",
    timeout: float = DEFAULT_TIMEOUT,
    kernel_name: str = "riskkit",
    *,
    notebooks_dir=None,
    db_url: str | None = None,
    progress: bool = True,
    log: Callable[[str], None] | None = None,
    start_timeout: float = 120,
    lock_wait: float = 0.0,
) -> RunResult:
    """Execute registered report ``name`` for ``as_of`` and publish it under ``reports_dir``.

    Parameters
    ----------
    name : str
        A registered report (:data:`~riskkit.reports.params.REPORTS`); its notebook is
        ``notebooks/<name>.ipynb``. Anything else (a path, an unknown name) is refused.
    as_of : date-like
        As-of date (YYYY-MM-DD); the output goes to ``reports_dir/<as_of>/<name>/``.
    params : mapping, optional
        Parameter values (text values are converted by the report's specification, so
        ``{"branch": "0042"}`` stays a string). A scope parameter (``branch``, ``officer``)
        gives the run its own address (``<name>@branch=0042``).
    params_file : path, optional
        YAML/JSON file of parameters; ``params`` take precedence.
    reports_dir : path, default "reports"
    timeout : float
        Seconds the whole notebook may take; the cell running when it runs out fails the run.
    kernel_name : str, default "riskkit"
        Jupyter kernel (installed by ``make`` with ``ipykernel install --name riskkit``).
    notebooks_dir : path, optional
        Where the notebooks are (default :func:`default_notebooks_dir`).
    db_url : str, optional
        Store URL given to the kernel in ``$RISKKIT_DB_URL`` (default: ``$RISKKIT_DB_URL`` or
        ``data/riskkit.db``); shown masked everywhere.
    progress : bool, default True
        papermill progress bar.
    log : callable, optional
        Receives progress lines, masked (default: stderr).
    lock_wait : float, default 0
        Seconds to wait while another run of the same report, as-of date and scope holds its
        lock; then this run fails saying so.

    Returns
    -------
    RunResult
        ``status`` is ``"ok"`` or ``"failed"``; failures are returned, not raised, and are
        logged in ``reports_dir/runs.json`` and ``index.html``.

    Raises
    ------
    riskkit.errors.ValidationError
        When ``name`` is not a registered report, ``as_of`` is not a date or the parameters
        file cannot be read (nothing is written).
    """
    spec = registered_report(name)
    as_of_s = as_of_text(spec.name, as_of)
    raw = gather_params(spec.name, params, params_file)
    url = resolve_db_url(raw.pop("db_url", None) or db_url)
    redactor = Redactor(url_secrets(url))
    sink = log or _log_default
    opts = RunOptions(
        kernel_name, timeout, start_timeout, _notebooks_dir(notebooks_dir), progress, lock_wait
    )
    run = _ReportRun(spec, as_of_s, Path(reports_dir).resolve(), url, redactor, sink, opts)
    return run.run(raw)


def _notebooks_dir(notebooks_dir) -> Path:
    return Path(notebooks_dir) if notebooks_dir else default_notebooks_dir()


class _ReportRun:
    """One run of one report: parameters, address, execution, publication, log entry."""

    def __init__(self, spec: ReportSpec, as_of: str, root: Path, url: str, redactor, sink, opts):
        self.spec, self.as_of, self.root, self.url, self.opts = spec, as_of, root, url, opts
        self.redactor: Redactor = redactor
        self.sink = sink
        self.t0 = time.perf_counter()
        self.scope: dict[str, str] = {}
        self.run_id = f"{datetime.now():%Y%m%dT%H%M%S}-{os.getpid()}-{uuid.uuid4().hex[:6]}"
        self.nb_path = opts.notebooks_dir / f"{spec.name}.ipynb"
        self.entry: dict = {
            "run_id": self.run_id,
            "as_of": as_of,
            "name": spec.name,
            "scope": {},
            "status": "failed",
            "started": _now(),
            "notebook_source": str(self.nb_path),
            "kernel_name": opts.kernel_name,
            "db_url": mask_url(url),
        }

    def log(self, msg: str) -> None:
        self.sink(self.redactor.text(msg))

    @property
    def what(self) -> str:
        scope = f" [{scope_text(self.scope)}]" if self.scope else ""
        return f"report {self.spec.name}{scope} as of {self.as_of}"

    # --- the steps ------------------------------------------------------------------------
    def run(self, raw: dict) -> RunResult:
        try:
            pm_params = self.parameters(raw)
            folder = address_folder(self.spec.name, self.scope)
            check_folder_name(folder, self.spec.name)
            paths = RunPaths.build(self.root, self.as_of, folder)
        except (ValidationError, UnsafePathError) as e:
            return self.finish(None, str(e))
        self.log(
            f"[riskkit] {self.what}: starting (kernel {self.opts.kernel_name!r}, "
            f"timeout {self.opts.timeout:g} s)"
        )
        try:
            with address_lock(paths, self.what, self.opts.lock_wait):
                clean_leftovers(paths, self.log)
                return self.run_locked(paths, pm_params)
        except (ReportBusyError, UnsafePathError) as e:
            return self.finish(None, str(e))

    def parameters(self, raw: dict) -> dict:
        """Typed parameters as papermill gets them (no store URL: that goes to the kernel's
        environment); sets the run's scope."""
        raw = dict(raw)
        if "output_dir" in raw:
            pc = ProblemCollector(f"parameters of report {self.spec.name!r}")
            pc.add("parameters", "output_dir", "is set by the runner; do not pass it")
            pc.raise_if_any()
        raw["as_of"], raw["output_dir"] = self.as_of, "."
        typed = validate_params(self.spec.name, raw)
        for p in self.spec.params:
            if p.kind == "path" and typed.get(p.name) and p.name != "output_dir":
                typed[p.name] = str(Path(typed[p.name]).resolve())
        self.scope = scope_of(self.spec, typed)
        self.entry["scope"] = dict(self.scope)
        pm_params = to_papermill(self.spec.name, typed)
        pm_params["db_url"] = None
        self.entry["params"] = {k: v for k, v in pm_params.items() if k != "db_url"}
        return pm_params

    def run_locked(self, paths: RunPaths, pm_params: dict) -> RunResult:
        work = paths.new_work_folder(self.run_id)
        metrics: dict = {}
        try:
            metrics = self.execute(work, pm_params)
            error = None
        except (ValidationError, RunFailure) as e:
            error = str(e)
        except Exception as e:  # noqa: BLE001 - any failure of the run is a failed run
            error = error_text(e, self.opts.timeout)
        findings = scrub_folder(work, self.redactor)
        if error is None and findings:
            error = (
                "personal data or a password in the report output, now masked in the failed "
                "run (mask it with riskkit.privacy before showing): " + "; ".join(findings)
            )
        if error is None:
            self.publish(paths, work)
        else:
            self.keep_failed(paths, work, error)
        return self.finish(paths, error, metrics if error is None else {})

    def execute(self, work: Path, pm_params: dict) -> dict:
        """Run the notebook in ``work``; the metrics it recorded."""
        nb_path = self.notebook()
        if not kernel_installed(self.opts.kernel_name):
            raise RunFailure(
                f"Jupyter kernel {self.opts.kernel_name!r} is not installed; run "
                f"`{sys.executable} -m ipykernel install --sys-prefix --name "
                f"{self.opts.kernel_name}` (make demo / make test do this)"
            )
        executed = execute_notebook(
            nb_path,
            work / f"{self.spec.name}.ipynb",
            pm_params,
            kernel_name=self.opts.kernel_name,
            cwd=work,
            timeout=self.opts.timeout,
            progress=self.opts.progress,
            start_timeout=self.opts.start_timeout,
            kernel_env={DB_URL_ENV: self.url},
            secrets=self.redactor.secrets,
        )
        mpath = work / METRICS_FILE
        if not mpath.exists():
            raise RunFailure(
                "the notebook recorded no metrics (it must end with rpt.finish(), which writes "
                "metrics.json)"
            )
        metrics = json.loads(mpath.read_text(encoding="utf-8"))
        export_html(executed, work / f"{self.spec.name}.html", self.title())
        return metrics

    def notebook(self) -> Path:
        """The report's notebook, checked to lie inside the notebooks folder."""
        nb_dir = self.opts.notebooks_dir
        try:
            nb_path = inside(nb_dir, self.nb_path)
        except UnsafePathError as e:
            raise RunFailure(str(e)) from None
        if not nb_path.is_file():
            raise RunFailure(f"no notebook {self.nb_path}; available: {available_reports(nb_dir)}")
        return nb_path

    def title(self) -> str:
        scope = f" ({scope_text(self.scope)})" if self.scope else ""
        return f"{self.spec.title}{scope} — {self.as_of}"

    # --- publication ----------------------------------------------------------------------
    def publish(self, paths: RunPaths, work: Path) -> None:
        """Swap the good run into place; clear this address's failed run."""
        self.entry["status"] = "ok"
        self._stamp()
        write_json_atomic(work / "run.json", self.redactor.value(self.entry))
        _world_readable(work)
        old = paths.old_folder(self.run_id)
        if paths.target.exists():
            os.rename(paths.checked(paths.target), old)
        try:
            os.rename(work, paths.target)
        except BaseException:
            if old.exists():
                os.rename(old, paths.target)
            raise
        if old.exists():
            paths.remove(old)
        if paths.failed.exists():
            paths.remove(paths.failed)
        t = paths.target
        rel = self.relative
        self.entry.update(
            path=rel(t),
            html=rel(t / f"{self.spec.name}.html"),
            notebook=rel(t / f"{self.spec.name}.ipynb"),
            metrics=rel(t / METRICS_FILE),
        )

    def keep_failed(self, paths: RunPaths, work: Path, error: str) -> None:
        """The failed run's folder, masked, with ``error.txt``, replaces the previous one."""
        self.entry["error"] = error
        self._stamp()
        (work / "error.txt").write_text(self.redactor.text(error) + "\n", encoding="utf-8")
        write_json_atomic(work / "run.json", self.redactor.value(self.entry))
        _world_readable(work)
        if paths.failed.exists():
            paths.remove(paths.failed)
        os.rename(work, paths.checked(paths.failed))
        self.entry["failed_path"] = self.relative(paths.failed)
        self.entry["error_file"] = self.relative(paths.failed / "error.txt")
        if (paths.failed / f"{self.spec.name}.ipynb").exists():
            self.entry["failed_notebook"] = self.relative(paths.failed / f"{self.spec.name}.ipynb")

    def relative(self, p: Path) -> str:
        return os.path.relpath(p, self.root)

    def _stamp(self) -> None:
        self.entry["finished"] = _now()
        self.entry["duration_s"] = round(time.perf_counter() - self.t0, 3)

    def finish(self, paths: RunPaths | None, error: str | None, metrics=None) -> RunResult:
        """Log the run (masked) in the run log and the index, and say how it went."""
        if error is not None:
            self.entry["status"] = "failed"
            self.entry["error"] = error
        self._stamp()
        entry = self.redactor.value(self.entry)
        append_run(self.root, entry)
        self._log_outcome(paths, entry)
        good = paths is not None and paths.target.exists()
        return RunResult(
            name=self.spec.name,
            as_of=self.as_of,
            status=entry["status"],
            duration_s=entry["duration_s"],
            path=str(paths.target) if paths is not None and good else None,
            failed_path=str(self.root / entry["failed_path"]) if "failed_path" in entry else None,
            error=entry.get("error"),
            metrics=metrics or {},
            scope=dict(self.scope),
        )

    def _log_outcome(self, paths: RunPaths | None, entry: dict) -> None:
        d = entry["duration_s"]
        if entry["status"] == "ok" and paths is not None:
            self.log(f"[riskkit] {self.what}: ok in {d:.1f} s -> {paths.target}")
            return
        msg = f"[riskkit] {self.what}: FAILED after {d:.1f} s: {entry['error']}"
        if "failed_path" in entry:
            msg += f"\n[riskkit]   failed run kept in {self.root / entry['failed_path']}"
        if paths is not None and paths.target.exists():
            msg += f"\n[riskkit]   last good report left in place: {paths.target}"
        self.log(msg)


def _world_readable(folder: Path) -> None:
    """Give a run's private working folder the permissions of a normally created folder."""
    mask = os.umask(0)
    os.umask(mask)
    os.chmod(folder, 0o777 & ~mask)


def run_all(
    as_of,
    names=None,
    params: Mapping | None = None,
    reports_dir="reports",
    **kwargs,
) -> list[RunResult]:
    """Run the month-end batch (:func:`batch_reports`) for ``as_of``; failures don't stop it.

    ``params`` are common parameters (e.g. ``{"language": "zh"}``) given to every report that
    has them. Every name must be a registered report (ValidationError before anything runs).
    """
    names = list(names) if names is not None else batch_reports(kwargs.get("notebooks_dir"))
    specs = [registered_report(n) for n in names]
    known = set().union(*(s.names for s in specs)) if specs else set()
    unknown = sorted(set(params or {}) - known)
    if unknown:
        raise ValueError(
            f"parameter(s) {unknown} belong to none of the reports {names}; known: {sorted(known)}"
        )
    log = kwargs.get("log") or _log_default
    results = []
    t0 = time.perf_counter()
    for i, spec in enumerate(specs, 1):
        log(f"[riskkit] report {i}/{len(specs)}: {spec.name}")
        own = {k: v for k, v in (params or {}).items() if k in spec.names}
        results.append(run_report(spec.name, as_of, params=own, reports_dir=reports_dir, **kwargs))
    n_ok = sum(r.ok for r in results)
    log(
        f"[riskkit] batch as of {results[0].as_of if results else as_of}: {n_ok} ok, "
        f"{len(results) - n_ok} failed, {time.perf_counter() - t0:.1f} s total"
    )
    return results


def result_dict(r: RunResult) -> dict:
    return asdict(r)
