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
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
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

    Returns the process and the URL; stop it with ``proc.terminate()``.
    """
    nb = find_notebook(notebook)
    port = free_port() if not port else int(port)
    proc = subprocess.Popen(
        voila_command(nb, port, tracebacks=tracebacks),
        cwd=str(nb.parent),
        env={**os.environ, **(env or {})},
        stdout=stdout,
        stderr=stderr,
    )
    return proc, f"http://127.0.0.1:{port}/"


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
        wait_until_serving(url, proc)
        print(f"credit-committee dashboards: {url}  (Ctrl-C stops)", flush=True)
        return proc.wait()
    except KeyboardInterrupt:
        return 0
    except (RuntimeError, TimeoutError) as exc:
        print(f"riskkit app: {exc}", file=sys.stderr)
        return 1
    finally:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


# ---------------------------------------------------------------------------------------------
# what the dashboard notebook loads


class CommitteeInputs:
    """Scorecard and samples the dashboards run on (see :func:`committee_inputs`)."""

    def __init__(self, scorecard, train, validation, book=None, source=""):
        self.scorecard = scorecard
        self.train = train
        self.validation = validation
        self.book = book
        self.source = source

    def __repr__(self) -> str:
        return (
            f"CommitteeInputs({self.scorecard!r}, train={len(self.train):,}, "
            f"validation={len(self.validation):,}, source={self.source!r})"
        )

    def _repr_html_(self) -> str:
        import html

        return f"<div><b>Dashboard inputs</b>: {html.escape(repr(self))}</div>"


def scorecard_features(sample, target: str = "bad") -> list[str]:
    """Application-time columns a scorecard may use (:func:`riskkit.scoring.feature_columns`)."""
    from ..scoring import feature_columns

    return feature_columns(sample, target)


def committee_inputs(
    n_loans: int = 4000,
    seed: int = 0,
    *,
    model_json: str | os.PathLike | None = None,
    validation_share: float = 0.3,
    target: str = "bad",
) -> CommitteeInputs:
    """Sample book -> application sample -> train/validation split -> fitted Scorecard.

    The scorecard: :class:`riskkit.scoring.Scorecard` on a
    ``WoETransformer(min_iv=0.02, max_corr=0.6, stepwise="forward")`` of every
    application-time feature (:func:`scorecard_features`), with its PDs calibrated out of
    fold (:meth:`riskkit.scoring.Scorecard.cv_calibrated`: fitted on the small development
    sample, the raw PDs of the best applicants were far too low on the validation sample).

    ``model_json``: a scorecard saved by a report run (``Scorecard.to_json``), used instead of
    fitting one here. Uses :func:`riskkit.datasets.make_microloan_book` and
    :func:`riskkit.scoring.application_sample`.
    """
    from sklearn.model_selection import train_test_split

    from ..datasets import make_microloan_book
    from ..scoring import Scorecard, WoETransformer, application_sample

    book = make_microloan_book(n_loans=n_loans, seed=seed)
    sample = application_sample(book)
    if "loan_id" in sample.columns:
        sample = sample.set_index("loan_id")
    if target not in sample.columns:
        raise KeyError(f"application sample has no target column {target!r}")
    train, validation = train_test_split(
        sample, test_size=validation_share, random_state=seed, stratify=sample[target]
    )
    if model_json:
        sc = Scorecard.from_json(model_json)
        source = f"scorecard loaded from {model_json}"
    else:
        feats = scorecard_features(train, target)
        # IV screen, correlation filter and forward stepwise keep a small, calibrated model
        binning = WoETransformer(min_iv=0.02, max_corr=0.6, stepwise="forward")
        sc = Scorecard(binning=binning).fit(train[feats], train[target])
        # a few hundred bads: in-sample PDs are too spread out (overfit binning/selection);
        # shrink the log-odds by the cross-validated calibration slope (scoring.cv_calibrated)
        sc = sc.cv_calibrated(train[feats], train[target], random_state=seed)
        source = (
            f"scorecard fitted on {len(train):,} applications (seed {seed}), PDs calibrated "
            f"out of fold (slope {sc.calibration_slope_:.2f})"
        )
    return CommitteeInputs(sc, train, validation, book, source)


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
