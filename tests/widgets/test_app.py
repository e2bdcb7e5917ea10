"""`riskkit app` plumbing: command line, ports, notebook lookup, input preparation."""

from __future__ import annotations

import socket
from pathlib import Path

import nbformat
import pandas as pd
import pytest

from riskkit.widgets import app

REPO = Path(__file__).resolve().parents[2]


def test_free_port_is_bindable_on_loopback():
    port = app.free_port()
    with socket.socket() as s:
        s.bind(("127.0.0.1", port))  # raises if taken


def test_voila_command_is_loopback_only():
    cmd = app.voila_command(Path("/x/nb.ipynb"), 9123)
    assert cmd[1:3] == ["-m", "voila"]
    assert "--no-browser" in cmd and "--port=9123" in cmd
    assert "--Voila.ip=127.0.0.1" in cmd and cmd[-1] == "/x/nb.ipynb"


def test_finds_the_committee_notebook_and_it_has_no_outputs():
    nb_path = app.find_notebook()
    assert nb_path == (REPO / "notebooks" / "credit_committee.ipynb").resolve()
    nb = nbformat.read(nb_path, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert all(not c.outputs and c.execution_count is None for c in code)
    text = "\n".join(c.source for c in code)
    for call in (
        "committee_screen(",
        "applicant_dashboard(",
        "cutoff_dashboard(",
        "portfolio_dashboard(",
    ):
        assert call in text


def test_main_reports_bad_usage(tmp_path, capsys):
    assert app.main(["--notebook", str(tmp_path / "missing.ipynb"), "--port", "0"]) == 2
    assert "notebook not found" in capsys.readouterr().err
    assert app.main(["--port", "70000"]) == 2
    with pytest.raises(SystemExit):
        app.main(["--port", "abc"])


def test_cli_dispatches_app(monkeypatch):
    from riskkit import cli

    seen = {}
    monkeypatch.setattr(app, "main", lambda argv: seen.setdefault("argv", argv) and 0)
    cli.main(["app", "--port", "0"])
    assert seen["argv"] == ["--port", "0"]


def test_scorecard_features_exclude_target_ids_dates_and_pii():
    df = pd.DataFrame(
        {
            "borrower_id": ["B1"],
            "name": ["张三"],
            "phone": ["13812345678"],
            "application_date": pd.to_datetime(["2026-01-01"]),
            "monthly_income": [1.0],
            "segment": ["trader"],
            "bad": [0],
        }
    )
    assert app.scorecard_features(df) == ["monthly_income", "segment"]


def test_committee_inputs_read_the_approved_champion_never_fit(tmp_path):
    from riskkit.scoring import ModelRegistry
    from riskkit.store import Store
    from tests.widgets.helpers import champion_store

    url = champion_store(tmp_path / "c.db", n_loans=2000)
    inputs = app.committee_inputs(url)
    champion = ModelRegistry(Store(url)).champion()
    assert inputs.model_version == champion.label == "application_scorecard v1"
    X = inputs.validation[list(inputs.scorecard.feature_names_in_)]
    assert (inputs.scorecard.predict_proba(X) == champion.scorecard().predict_proba(X)).all()
    # applications shown are after the development window (out of time)
    assert (inputs.validation["disbursement_date"] > champion.development_end).all()
    assert champion.development_window in inputs.source
    ModelRegistry(Store(url)).retire(champion.name, 1, by="validator", reason="withdrawn")
    with pytest.raises(LookupError, match="no approved application champion"):
        app.committee_inputs(url)


def test_lending_decision_from_the_champion(tmp_path):
    from riskkit.lending import Application, assess_with_champion
    from riskkit.scoring import ModelRegistry, application_sample
    from riskkit.store import Store
    from tests.widgets.helpers import champion_store

    url = champion_store(tmp_path / "d.db", n_loans=2000)
    store = Store(url)
    row = application_sample(store.load_book()).iloc[0]
    app_ = Application(800_000, 12, 0.12, "annuity", "joint", monthly_income=12_000)
    a = assess_with_champion(app_, row, store)
    assert a.model_version == "application_scorecard v1"
    assert a.recommendation in ("decline as requested", "decline")
    champion = ModelRegistry(store).champion().scorecard()
    from riskkit.lending import amount_monotone_risk, model_input

    raw = champion.credit_score(model_input(row, app_, list(champion.feature_names_in_)))[0]
    pd_, score, why = amount_monotone_risk(champion, row, app_)
    # the score is held like the PD: never above the score of the same terms at a lower amount
    assert (a.pd, a.score) == (pd_, score) and score <= raw
    assert (score < raw) == (why.code == "pd_held_for_amount")


# --- issue 15 (12): `riskkit app` stops cleanly ---------------------------------------------

_SPAWNING = """\
import subprocess, sys
child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
print("kernel child", child.pid)
"""


def _start_app(tmp_path):
    import subprocess
    import sys

    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(_SPAWNING)]
    nb.metadata["kernelspec"] = {"name": "riskkit", "display_name": "riskkit", "language": "python"}
    path = tmp_path / "committee.ipynb"
    nbformat.write(nb, str(path))
    proc = subprocess.Popen(
        [sys.executable, "-m", "riskkit.cli", "app", "--port", "0", "--notebook", str(path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    line = proc.stdout.readline()  # "credit-committee dashboards: http://127.0.0.1:PORT/ ..."
    assert "credit-committee dashboards: http://127.0.0.1:" in line, line
    url = line.split()[2]
    return proc, url, int(url.rstrip("/").rsplit(":", 1)[1])


@pytest.mark.slow
@pytest.mark.parametrize("signum", ["SIGTERM", "SIGINT"])
def test_app_stops_voila_and_its_kernels_on_a_signal(tmp_path, signum):
    import signal
    import urllib.request

    import psutil

    from riskkit.reports import ensure_kernel

    ensure_kernel("riskkit")
    proc, url, port = _start_app(tmp_path)
    try:
        with urllib.request.urlopen(url, timeout=120) as page:  # runs the notebook in a kernel
            assert "kernel child" in page.read().decode()
        family = psutil.Process(proc.pid).children(recursive=True)
        names = " ".join(" ".join(p.cmdline()) for p in family)
        assert "voila" in names and "ipykernel" in names and "time.sleep(600)" in names
        proc.send_signal(getattr(signal, signum))
        assert proc.wait(timeout=60) == 0
        _, alive = psutil.wait_procs(family, timeout=30)
        assert alive == [], [" ".join(p.cmdline()) for p in alive]
        with pytest.raises(ConnectionRefusedError):  # nobody serves on the port any more
            socket.create_connection(("127.0.0.1", port), timeout=5).close()
        with socket.socket() as s:  # and it can be listened on again
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind(("127.0.0.1", port))
    finally:
        for p in psutil.Process().children(recursive=True):
            p.kill()
