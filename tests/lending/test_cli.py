"""``riskkit credit``: the process from the command line, errors with status 2."""

from __future__ import annotations

import pandas as pd

from riskkit.cli import main
from riskkit.datasets import make_microloan_book
from riskkit.store import Store


def test_credit_command_line_walks_an_application(tmp_path, capsys):
    url = f"sqlite:///{tmp_path / 'risk.db'}"
    store = Store(url)
    store.save_book(make_microloan_book(n_loans=1_500, months=24, seed=2))
    from riskkit.book.customers import register_from_book

    register_from_book(store, store.load_book())
    run = lambda *a: main(["credit", "--db-url", url, *a])  # noqa: E731
    from riskkit.datasets.applications import make_applications, store_sample

    store_sample(store, make_applications(store.load_book(), n=40, seed=2))
    assert run("assess") == 0
    out = capsys.readouterr().out
    assert "AdmissionResult(40 applications" in out and "credit_committee" in out
    from riskkit.lending.process import CreditProcess

    st = CreditProcess(store).status()
    app = st.index[st["stage"] == "investigation"][0]
    branch = CreditProcess(store).application(app)["branch"]
    staff = CreditProcess(store).staff()
    offs = staff.index[(staff["branch"] == branch) & (staff["role"] == "officer")]
    o1, o2 = offs[1], offs[2]
    rev = staff.index[(staff["branch"] == branch) & (staff["role"] == "reviewer")][0]
    assert run("investigate", app, "--by", f"{o1},{o2}", "--comment", "on-site visit") == 0
    # the investigating officer cannot review: status 2, the rule and both roles named
    assert run("review", app, "--by", o1, "--decision", "pass", "--comment", "ok") == 2
    err = capsys.readouterr().err
    assert f"reviewer must be a reviewer: {o1} (officer)" in err
    assert run("review", app, "--by", rev, "--decision", "pass", "--comment", "ok") == 0
    assert run("file", app) == 0
    out = capsys.readouterr().out
    assert f"independent review: pass by {rev} (reviewer)" in out
    assert (CreditProcess(store).steps(app)["step"] == "review").sum() == 1
    assert isinstance(CreditProcess(store).state(app).stage, str)
    assert pd.notna(st.loc[app, "level"])
