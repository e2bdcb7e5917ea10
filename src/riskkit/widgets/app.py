"""``riskkit app``: serve the credit-committee dashboards with Voila on 127.0.0.1.

Committee members without Jupyter open the printed URL in a browser; the notebook
``notebooks/credit_committee.ipynb`` runs in a kernel on this machine only (loopback).

::

    riskkit app                      # http://127.0.0.1:8866/
    riskkit app --port 0             # any free port (printed)
    riskkit app --notebook other.ipynb --port 9000
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

DEFAULT_PORT = 8866
NOTEBOOK = "credit_committee.ipynb"


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port nobody listens on right now (ask the OS for one)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def find_notebook(name: str | os.PathLike | None = None) -> Path:
    """The dashboard notebook: an explicit path, else ``notebooks/credit_committee.ipynb`` in
    the current directory or in the source checkout riskkit is installed from."""
    if name is not None:
        p = Path(name)
        if not p.is_file():
            raise FileNotFoundError(f"notebook not found: {p}")
        return p.resolve()
    candidates = [
        Path.cwd() / "notebooks" / NOTEBOOK,
        Path(__file__).resolve().parents[3] / "notebooks" / NOTEBOOK,
    ]
    for p in candidates:
        if p.is_file():
            return p.resolve()
    raise FileNotFoundError(
        f"{NOTEBOOK} not found in {[str(c.parent) for c in candidates]}; pass --notebook PATH"
    )


def voila_command(notebook: Path, port: int, *, tracebacks: bool = False) -> list[str]:
    """The Voila command line (loopback only, no browser)."""
    cmd = [
        sys.executable,
        "-m",
        "voila",
        "--no-browser",
        f"--port={port}",
        "--Voila.ip=127.0.0.1",
        "--Voila.port_retries=0",
    ]
    if tracebacks:
        cmd.append("--show_tracebacks=True")
    cmd.append(str(notebook))
    return cmd


def wait_until_serving(url: str, proc: subprocess.Popen | None = None, timeout: float = 60.0):
    """Poll ``url`` until Voila answers; raise if the process died or ``timeout`` passed."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"voila exited with status {proc.returncode} before serving {url}")
        try:
            # the tree/static endpoint answers without executing the notebook
            with urllib.request.urlopen(url.rstrip("/") + "/voila/static/", timeout=2):
                return
        except urllib.error.HTTPError:
            return  # the server answers (even 403/404 means it is up)
        except (urllib.error.URLError, ConnectionError, TimeoutError) as exc:
            last = exc
            time.sleep(0.2)
    raise TimeoutError(f"voila did not answer at {url} within {timeout:.0f} s ({last})")


def serve(
    notebook: str | os.PathLike | None = None,
    port: int | None = DEFAULT_PORT,
    *,
    tracebacks: bool = False,
    env: dict | None = None,
    stdout=None,
    stderr=None,
) -> tuple[subprocess.Popen, str]:
    """Start Voila on ``127.0.0.1:port`` (``0`` or ``None``: a free port) in the background.

    Returns the process and the URL; stop it, its kernels included, with :func:`stop`.
    Voila runs in its own session, so a Ctrl-C in the terminal reaches only ``riskkit app``,
    which then stops it.
    """
    nb = find_notebook(notebook)
    port = free_port() if not port else int(port)
    proc = subprocess.Popen(
        voila_command(nb, port, tracebacks=tracebacks),
        cwd=str(nb.parent),
        env={**os.environ, **(env or {})},
        stdout=stdout,
        stderr=stderr,
        start_new_session=True,
    )
    return proc, f"http://127.0.0.1:{port}/"


def stop(proc: subprocess.Popen, grace: float = 10.0) -> None:
    """Stop Voila and every process it started (its kernels run in sessions of their own):
    SIGTERM to Voila, which shuts its kernels down; after ``grace`` seconds SIGKILL to whatever
    of them is left."""
    import psutil

    try:
        family = psutil.Process(proc.pid).children(recursive=True)
    except psutil.NoSuchProcess:
        family = []
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    _, alive = psutil.wait_procs(family, timeout=grace)
    for p in alive:
        with contextlib.suppress(psutil.NoSuchProcess):
            p.kill()
    psutil.wait_procs(alive, timeout=grace)


class _Stop(Exception):
    """SIGTERM or SIGHUP asked ``riskkit app`` to stop."""


@contextlib.contextmanager
def _stop_on_signals() -> Iterator[None]:
    """Turn SIGTERM and SIGHUP into an exception, so the cleanup in ``main`` runs (by default
    they end the process at once, leaving Voila serving on its port)."""

    def handler(signum, frame):
        raise _Stop(signal.Signals(signum).name)

    previous = {s: signal.signal(s, handler) for s in (signal.SIGTERM, signal.SIGHUP)}
    try:
        yield
    finally:
        for s, h in previous.items():
            signal.signal(s, h)


@contextlib.contextmanager
def _signals_ignored() -> Iterator[None]:
    stops = (signal.SIGTERM, signal.SIGHUP, signal.SIGINT)
    previous = {s: signal.signal(s, signal.SIG_IGN) for s in stops}
    try:
        yield
    finally:
        for s, h in previous.items():
            signal.signal(s, h)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="riskkit app",
        description="Serve the credit-committee dashboards with Voila on 127.0.0.1.",
    )
    p.add_argument(
        "--port",
        type=int,
        default=DEFAULT_PORT,
        help=f"port on 127.0.0.1 (default {DEFAULT_PORT}; 0 = any free port)",
    )
    p.add_argument("--notebook", default=None, help=f"dashboard notebook (default {NOTEBOOK})")
    p.add_argument("--tracebacks", action="store_true", help="show Python tracebacks in the page")
    return p


def main(argv=None) -> int:
    """Entry point of ``riskkit app``; runs until interrupted (Ctrl-C)."""
    args = build_parser().parse_args(argv)
    if args.port < 0 or args.port > 65535:
        print(f"riskkit app: --port must be 0..65535, got {args.port}", file=sys.stderr)
        return 2
    try:
        import voila  # noqa: F401
    except ImportError:
        print(
            "riskkit app needs voila: pip install 'riskkit[app]' (or make test/demo, which "
            "install it)",
            file=sys.stderr,
        )
        return 2
    try:
        proc, url = serve(args.notebook, args.port, tracebacks=args.tracebacks)
    except FileNotFoundError as exc:
        print(f"riskkit app: {exc}", file=sys.stderr)
        return 2
    try:
        with _stop_on_signals():
            wait_until_serving(url, proc)
            print(f"credit-committee dashboards: {url}  (Ctrl-C stops)", flush=True)
            return proc.wait()
    except (KeyboardInterrupt, _Stop):
        return 0
    except (RuntimeError, TimeoutError) as exc:
        print(f"riskkit app: {exc}", file=sys.stderr)
        return 1
    finally:
        with _signals_ignored():  # a second Ctrl-C or SIGTERM must not cut the cleanup short
            stop(proc)


# ---------------------------------------------------------------------------------------------
# what the dashboard notebook loads


class CommitteeInputs:
    """Scorecard and samples the dashboards run on (see :func:`committee_inputs`)."""

    def __init__(self, scorecard, train, validation, book=None, source="", model_version=None):
        self.scorecard = scorecard
        self.train = train
        self.validation = validation
        self.book = book
        self.source = source
        self.model_version = model_version

    def __repr__(self) -> str:
        return (
            f"CommitteeInputs({self.model_version or self.scorecard!r}, "
            f"development={len(self.train):,}, validation={len(self.validation):,}, "
            f"source={self.source!r})"
        )

    def _repr_html_(self) -> str:
        import html

        return f"<div><b>Dashboard inputs</b>: {html.escape(repr(self))}</div>"


def scorecard_features(sample, target: str = "bad") -> list[str]:
    """Application-time columns a scorecard may use (:func:`riskkit.scoring.feature_columns`)."""
    from ..scoring import feature_columns

    return feature_columns(sample, target)


def committee_inputs(
    db_url: str | None = None,
    *,
    model_json: str | os.PathLike | None = None,
    use: str = "application",
    target: str = "bad",
) -> CommitteeInputs:
    """The stored book and the approved champion of the model registry, for the dashboards.

    The scorecard is the registry's approved champion of ``use``
    (:meth:`riskkit.scoring.ModelRegistry.champion`), never one fitted here; ``model_json``
    (a scorecard saved by a report run) replaces it explicitly. The application sample of the
    stored book (:func:`riskkit.scoring.application_sample`) splits at the end of the
    champion's development window: applications inside it (``train``) and after it with a
    known outcome (``validation``, what the applicant and cut-off dashboards show).
    """
    from ..scoring import ModelRegistry, Scorecard, application_sample
    from ..store import Store

    store = Store(db_url)
    book = store.load_book()
    sample = application_sample(book)
    if model_json:
        sc, label, end = Scorecard.from_json(model_json), None, None
        source = f"scorecard loaded from {model_json}"
    else:
        champion = ModelRegistry(store).champion(use)
        sc, label, end = champion.scorecard(), champion.label, champion.development_end
        source = f"{label}, approved {use} champion, developed on {champion.development_window}"
    if target not in sample.columns:
        raise KeyError(f"application sample has no target column {target!r}")
    after = sample["disbursement_date"] > end if end is not None else sample.index == sample.index
    train, validation = sample[~after], sample[after]
    if validation.empty:
        raise ValueError(f"no application with a known outcome after {label}'s window ({end})")
    return CommitteeInputs(sc, train, validation, book, source, model_version=label)


def portfolio_inputs(book, months: int = 12, policy=None):
    """Monthly balance-weighted migration matrix and today's classification of ``book``.

    Classifies the book at each of the last ``months`` month-ends up to ``book.as_of_date``
    (:class:`riskkit.classification.Classifier`), builds the panel
    (:func:`riskkit.migration.panel_from_history`) and estimates the pooled monthly cohort
    matrix weighted by balance (:func:`riskkit.migration.cohort_matrix`).

    Returns ``(matrix, classification)`` for :func:`riskkit.widgets.portfolio_dashboard`.
    """
    import pandas as pd

    from ..classification import Classifier
    from ..migration import cohort_matrix, panel_from_history

    if book is None:
        raise ValueError("portfolio_inputs needs a LoanBook")
    as_of = pd.Timestamp(book.as_of_date)
    ends = pd.date_range(end=as_of, periods=months + 1, freq="ME")
    ends = [d for d in ends if d <= as_of]
    clf = Classifier(policy)
    results = [clf.classify(book.disbursed_by(d), d) for d in ends]
    history = pd.concat([r.to_frame() for r in results], ignore_index=True)
    history["category"] = history["category"].astype(str)
    matrix = cohort_matrix(panel_from_history(history), 1, weight="balance")
    return matrix, results[-1]
