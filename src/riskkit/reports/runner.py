"""Run report notebooks with papermill: validated parameters, atomic output, failure semantics.

Each run of report ``NAME`` for as-of date ``D`` writes ``reports/D/NAME/``:

- ``NAME.ipynb``: the executed notebook (with the injected parameters);
- ``NAME.html``: the report without code (nbconvert ``--no-input``), figures as PNG;
- ``metrics.json``: the key figures the notebook recorded;
- ``run.json``: parameters, timings and versions; plus any artefact the notebook saved
  (for example ``scorecard.json``).

The notebook executes inside a temporary directory next to the target, which is renamed into
place only when everything succeeded, so a re-run replaces the previous good report and a failed
run never damages it. A failed or timed-out run (cell error, timeout, dead kernel, missing
metrics, unmasked personal data in the output, bad parameters) keeps what it produced in
``reports/D/NAME.failed/`` with ``error.txt``, is logged as failed in ``reports/runs.json`` and
``reports/index.html``, and leaves the last good report in place.
"""

from __future__ import annotations

import json
import math
import os
import re
import shutil
import sys
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from ..errors import ValidationError
from .context import METRICS_FILE, write_json_atomic
from .index import append_run
from .params import (
    REPORTS,
    ParameterValueError,
    load_params_file,
    parse_date,
    to_papermill,
    validate_params,
)

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
_DATA_URI = re.compile(r"data:image/[a-z+]+;base64,[A-Za-z0-9+/=\s]+")


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
    """Outcome of one report run."""

    name: str
    as_of: str
    status: str
    duration_s: float
    path: str | None = None
    failed_path: str | None = None
    error: str | None = None
    metrics: dict = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    def __repr__(self) -> str:
        where = self.path if self.ok else self.failed_path
        tail = "" if self.ok else f", error={self.error!r}"
        return (
            f"RunResult({self.name!r}, as_of={self.as_of}, {self.status}, "
            f"{self.duration_s:.1f} s, {where}{tail})"
        )


class _RunFailed(Exception):
    pass


def _now() -> str:
    return datetime.now(UTC).astimezone().isoformat(timespec="seconds")


def _log_default(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def _error_text(exc: BaseException, timeout: float) -> str:
    from nbclient.exceptions import CellTimeoutError, DeadKernelError
    from papermill.exceptions import PapermillExecutionError

    if isinstance(exc, PapermillExecutionError):
        lines = [ln for ln in str(exc.evalue).splitlines() if ln.strip()]
        evalue = " | ".join(lines[:6])
        return f"cell {exc.exec_count}: {exc.ename}: {evalue}"
    if isinstance(exc, CellTimeoutError | TimeoutError):
        return f"timed out: the report did not finish within {timeout:g} s"
    if isinstance(exc, DeadKernelError):
        return f"kernel died: {exc}"
    return f"{type(exc).__name__}: {exc}"


def _notebook_texts(nb) -> list[str]:
    out = []
    for cell in nb.cells:
        for o in cell.get("outputs", []):
            if o.get("output_type") == "stream":
                out.append(o.get("text", ""))
            elif o.get("output_type") == "error":
                out.extend(o.get("traceback", []))
            data = o.get("data", {})
            for mime in ("text/plain", "text/html", "text/markdown", "application/json"):
                if mime in data:
                    v = data[mime]
                    out.append(v if isinstance(v, str) else json.dumps(v, ensure_ascii=False))
    return out


def check_no_pii(texts) -> None:
    """Raise if any text shows an unmasked ID number or mobile phone number."""
    from ..privacy import mask_text

    for t in texts:
        t = _DATA_URI.sub("", t)
        if mask_text(t) != t:
            raise _RunFailed(
                "unmasked personal data (ID or phone number) in the report output; "
                "mask it with riskkit.privacy before showing"
            )


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
) -> RunResult:
    """Execute report notebook ``name`` for ``as_of`` and publish it under ``reports_dir``.

    Parameters
    ----------
    name : str
        Report name: ``notebooks/<name>.ipynb``.
    as_of : date-like
        As-of date (YYYY-MM-DD); the output goes to ``reports_dir/<as_of>/<name>/``.
    params : mapping, optional
        Parameter values (text values are converted by the report's specification, so
        ``{"branch": "0042"}`` stays a string).
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
        Store URL passed to the notebook (default: ``$RISKKIT_DB_URL`` or ``data/riskkit.db``).
    progress : bool, default True
        papermill progress bar.
    log : callable, optional
        Receives progress lines (default: stderr).

    Returns
    -------
    RunResult
        ``status`` is ``"ok"`` or ``"failed"``; failures are returned, not raised, and are
        logged in ``reports_dir/runs.json`` and ``index.html``.

    Raises
    ------
    riskkit.errors.ValidationError
        When ``as_of`` is not a date (nothing is written).
    """
    log = log or _log_default
    t0 = time.perf_counter()
    started = _now()
    try:
        as_of_s = parse_date(as_of).strftime("%Y-%m-%d")
    except ParameterValueError as e:
        from ..errors import ProblemCollector

        pc = ProblemCollector(f"parameters of report {name!r}")
        pc.add("parameters", "as_of", str(e))
        raise ValidationError(pc.problems, pc.what) from None

    reports_dir = Path(reports_dir).resolve()
    nb_dir = Path(notebooks_dir) if notebooks_dir else default_notebooks_dir()
    nb_path = (nb_dir / f"{name}.ipynb").resolve()
    out_root = reports_dir / as_of_s
    target = out_root / name
    failed_dir = out_root / f"{name}.failed"
    run_id = f"{datetime.now():%Y%m%dT%H%M%S}-{os.getpid()}-{uuid.uuid4().hex[:6]}"
    tmp = out_root / f".{name}.tmp-{run_id}"
    entry = {
        "run_id": run_id,
        "as_of": as_of_s,
        "name": name,
        "status": "failed",
        "started": started,
        "notebook_source": str(nb_path),
        "kernel_name": kernel_name,
    }
    metrics: dict = {}
    error = None
    executed = None
    log(
        f"[riskkit] {name} as of {as_of_s}: starting (kernel {kernel_name!r}, "
        f"timeout {timeout:g} s)"
    )
    try:
        out_root.mkdir(parents=True, exist_ok=True)
        tmp.mkdir()
        raw: dict = {}
        if params_file:
            raw.update(load_params_file(params_file, name))
        raw.update(params or {})
        if "output_dir" in raw:
            raise _RunFailed("output_dir is set by the runner; do not pass it")
        raw["as_of"] = as_of_s
        raw["output_dir"] = "."
        if not raw.get("db_url"):
            raw["db_url"] = db_url
        raw["db_url"] = resolve_db_url(raw["db_url"])
        if name in REPORTS:
            typed = validate_params(name, raw)
            for p in REPORTS[name].params:
                if p.kind == "path" and typed.get(p.name) and p.name != "output_dir":
                    typed[p.name] = str(Path(typed[p.name]).resolve())
            pm_params = to_papermill(name, typed)
        else:
            pm_params = raw
        entry["params"] = {k: v for k, v in pm_params.items() if k not in ("db_url",)}
        if not nb_path.exists():
            raise _RunFailed(f"no notebook {nb_path}; available: {available_reports(nb_dir)}")
        if not kernel_installed(kernel_name):
            raise _RunFailed(
                f"Jupyter kernel {kernel_name!r} is not installed; run "
                f"`{sys.executable} -m ipykernel install --sys-prefix --name {kernel_name}` "
                "(make demo / make test do this)"
            )
        executed = _execute(
            nb_path,
            tmp / f"{name}.ipynb",
            pm_params,
            kernel_name,
            tmp,
            timeout,
            progress,
            start_timeout,
        )
        check_no_pii(_notebook_texts(executed))
        mpath = tmp / METRICS_FILE
        if not mpath.exists():
            raise _RunFailed(
                "the notebook recorded no metrics (it must end with rpt.finish(), which writes "
                "metrics.json)"
            )
        metrics = json.loads(mpath.read_text(encoding="utf-8"))
        title = f"{REPORTS[name].title if name in REPORTS else name} — {as_of_s}"
        export_html(executed, tmp / f"{name}.html", title)
        check_no_pii([(tmp / f"{name}.html").read_text(encoding="utf-8")])
        entry["status"] = "ok"
    except ValidationError as e:
        error = str(e)
    except _RunFailed as e:
        error = str(e)
    except Exception as e:  # noqa: BLE001 - any failure of the run is a failed run
        error = _error_text(e, timeout)
    duration = time.perf_counter() - t0
    entry["finished"] = _now()
    entry["duration_s"] = round(duration, 3)
    rel = lambda p: os.path.relpath(p, reports_dir)  # noqa: E731
    if entry["status"] == "ok":
        write_json_atomic(tmp / "run.json", entry)
        _swap_into_place(tmp, target, out_root, run_id)
        entry.update(
            path=rel(target),
            html=rel(target / f"{name}.html"),
            notebook=rel(target / f"{name}.ipynb"),
            metrics=rel(target / METRICS_FILE),
        )
        log(f"[riskkit] {name} as of {as_of_s}: ok in {duration:.1f} s -> {target}")
    else:
        entry["error"] = error
        failed_path = None
        if tmp.exists():
            (tmp / "error.txt").write_text(f"{error}\n", encoding="utf-8")
            write_json_atomic(tmp / "run.json", entry)
            if failed_dir.exists():
                shutil.rmtree(failed_dir)
            os.rename(tmp, failed_dir)
            failed_path = failed_dir
            nb_file = failed_dir / f"{name}.ipynb"
            entry["failed_path"] = rel(failed_dir)
            if nb_file.exists():
                entry["failed_notebook"] = rel(nb_file)
        good = target.exists()
        log(
            f"[riskkit] {name} as of {as_of_s}: FAILED after {duration:.1f} s: {error}"
            + (f"\n[riskkit]   failed run kept in {failed_path}" if failed_path else "")
            + (f"\n[riskkit]   last good report left in place: {target}" if good else "")
        )
    append_run(reports_dir, entry)
    return RunResult(
        name=name,
        as_of=as_of_s,
        status=entry["status"],
        duration_s=duration,
        path=str(target) if entry["status"] == "ok" else (str(target) if target.exists() else None),
        failed_path=entry.get("failed_path") and str(reports_dir / entry["failed_path"]),
        error=error,
        metrics=metrics,
    )


def kernel_config():
    """traitlets config for the kernel manager: CurveZMQ transport encryption where pyzmq
    supports it and the kernelspec declares it (``transport_encryption="auto"``), so the
    kernel's localhost TCP traffic is encrypted; ipykernel then no longer logs "Kernel is
    running over TCP without encryption" to the batch's terminal. Other kernel messages and
    every error still reach stderr, the notebook and ``error.txt``."""
    import zmq
    from traitlets.config import Config

    cfg = Config()
    if zmq.has("curve"):
        cfg.KernelManager.transport_encryption = "auto"
    return cfg


def _execute(nb_path, out_path, parameters, kernel_name, cwd, timeout, progress, start_timeout):
    import papermill as pm

    deadline = time.monotonic() + timeout

    def timeout_func(cell):  # whole-run budget: each cell gets what is left (at least 1 s)
        return max(1, math.ceil(deadline - time.monotonic()))

    return pm.execute_notebook(
        str(nb_path),
        str(out_path),
        parameters=dict(parameters),
        kernel_name=kernel_name,
        cwd=str(cwd),
        progress_bar=progress,
        request_save_on_cell_execute=True,
        start_timeout=start_timeout,
        timeout_func=timeout_func,
        config=kernel_config(),
    )


def _swap_into_place(tmp: Path, target: Path, out_root: Path, run_id: str) -> None:
    """Rename ``tmp`` to ``target``; the previous target is removed only once replaced."""
    old = None
    if target.exists():
        old = out_root / f".{target.name}.old-{run_id}"
        os.rename(target, old)
    try:
        os.rename(tmp, target)
    except BaseException:
        if old is not None:
            os.rename(old, target)
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def run_all(
    as_of,
    names=None,
    params: Mapping | None = None,
    reports_dir="reports",
    **kwargs,
) -> list[RunResult]:
    """Run the month-end batch (:func:`batch_reports`) for ``as_of``; failures don't stop it.

    ``params`` are common parameters (e.g. ``{"language": "zh"}``) given to every report that
    has them.
    """
    names = list(names) if names is not None else batch_reports(kwargs.get("notebooks_dir"))
    known = set().union(*(REPORTS[n].names for n in names if n in REPORTS)) if names else set()
    unknown = sorted(set(params or {}) - known) if all(n in REPORTS for n in names) else []
    if unknown:
        raise ValueError(
            f"parameter(s) {unknown} belong to none of the reports {names}; known: {sorted(known)}"
        )
    log = kwargs.get("log") or _log_default
    results = []
    t0 = time.perf_counter()
    for i, name in enumerate(names, 1):
        log(f"[riskkit] report {i}/{len(names)}: {name}")
        own = {}
        if params:
            spec = REPORTS.get(name)
            own = {k: v for k, v in params.items() if spec is None or k in spec.names}
        results.append(run_report(name, as_of, params=own, reports_dir=reports_dir, **kwargs))
    n_ok = sum(r.ok for r in results)
    log(
        f"[riskkit] batch as of {results[0].as_of if results else as_of}: {n_ok} ok, "
        f"{len(results) - n_ok} failed, {time.perf_counter() - t0:.1f} s total"
    )
    return results


def result_dict(r: RunResult) -> dict:
    return asdict(r)
