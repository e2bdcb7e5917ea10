"""The model registry: versions, draft -> approved -> retired, one champion per use, an
append-only audit trail, on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
import time

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa

from riskkit.errors import ValidationError
from riskkit.scoring import ModelRegistry, RegistryError, Scorecard
from riskkit.store import Store

WINDOW = ("2024-01-01", "2024-12-31")


@pytest.fixture(scope="module")
def fitted():
    rng = np.random.default_rng(1)
    X = pd.DataFrame({"income": rng.normal(size=3000), "age": rng.normal(size=3000)})
    y = (rng.random(3000) < 1 / (1 + np.exp(2 + X["income"]))).astype(int)
    return Scorecard().fit(X, y), X


@pytest.fixture(scope="module")
def refitted(fitted):
    """A second, different scorecard (fitted on the first 2,000 rows only)."""
    _, X = fitted
    rng = np.random.default_rng(1)
    rng.normal(size=6000)
    y = (rng.random(3000) < 1 / (1 + np.exp(2 + X["income"]))).astype(int)
    return Scorecard().fit(X.iloc[:2000], y[:2000])


def test_lifecycle_and_audit_trail(db_url, fitted, refitted):
    sc, X = fitted
    reg = ModelRegistry(Store(db_url))
    with pytest.raises(LookupError, match="riskkit model approve NAME VERSION"):
        reg.champion("application")
    v1 = reg.register(sc, "app_sc", development_window=WINDOW, author="ana", when="2025-01-05")
    v2 = reg.register(refitted, "app_sc", development_window=WINDOW, author="ana",
                      when="2025-02-05")  # fmt: skip
    assert (v1.version, v2.version, v1.status, v1.role) == (1, 2, "draft", None)
    assert v1.development_window == "2024-01-01 to 2024-12-31"
    with pytest.raises(RegistryError, match="author 'ana' cannot approve"):
        reg.approve("app_sc", 1, approver="ana", reason="mine")
    with pytest.raises(ValidationError, match="reason: required"):
        reg.approve("app_sc", 1, approver="val", reason=" ")
    a1 = reg.approve("app_sc", 1, approver="val", reason="passed validation", when="2025-01-10")
    assert (a1.status, a1.role, a1.approved_by) == ("approved", "champion", "val")
    assert a1.approved_at == pd.Timestamp("2025-01-10")
    reg.approve("app_sc", 2, approver="val", reason="benchmark", role="challenger")
    assert [c.label for c in reg.challengers()] == ["app_sc v2"]
    # promoting the challenger retires the old champion, in the same transaction
    reg.approve("app_sc", 2, approver="cro", reason="better on OOT", when="2025-03-01")
    assert reg.champion().label == "app_sc v2"
    assert reg.get("app_sc", 1).status == "retired"
    with pytest.raises(RegistryError, match="app_sc v1 is retired"):
        reg.approve("app_sc", 1, approver="cro", reason="back")
    h = reg.history("app_sc")
    assert h["event_id"].tolist() == list(range(1, 7))
    assert h[["version", "status", "role", "actor"]].values.tolist() == [
        [1, "draft", "", "ana"],
        [2, "draft", "", "ana"],
        [1, "approved", "champion", "val"],
        [2, "approved", "challenger", "val"],
        [1, "retired", "", "cro"],
        [2, "approved", "champion", "cro"],
    ]
    assert h["reason"].iloc[4] == "superseded by app_sc v2: better on OOT"
    # the document comes back bit for bit
    again = reg.champion().scorecard()
    assert (again.predict_proba(X) == refitted.predict_proba(X)).all()
    reg.retire("app_sc", 2, by="cro", reason="withdrawn", when="2025-04-01")
    with pytest.raises(LookupError, match="app_sc v2, the last champion, was retired on "
                       "2025-04-01 by cro: withdrawn"):  # fmt: skip
        reg.champion()


def test_events_are_append_only_and_documents_checked(tmp_path, fitted):
    sc, _ = fitted
    store = Store(f"sqlite:///{tmp_path / 'r.db'}")
    reg = ModelRegistry(store)
    reg.register(sc, "m", use="behaviour", development_window=WINDOW, author="ana")
    with store.transaction() as conn:  # an event id taken twice is refused by the index
        with pytest.raises(sa.exc.IntegrityError):
            conn.execute(
                sa.text("INSERT INTO model_events (event_id, name, version) VALUES (1, 'm', 1)")
            )
    with store.transaction() as conn:  # someone with the database's rights removes the guard
        conn.execute(sa.text("DROP TRIGGER model_versions_no_update"))
        conn.execute(sa.text("UPDATE model_versions SET document = REPLACE(document, '1', '2')"))
    with pytest.raises(RegistryError, match="does not match its SHA-256"):
        reg.get("m", 1).scorecard()
    with pytest.raises(RegistryError, match="use must be one of"):
        reg.register(sc, "m", use="collections", development_window=WINDOW, author="ana")
    with pytest.raises(RegistryError, match="ends .* before it starts"):
        reg.register(sc, "m", development_window=("2025-01-01", "2024-01-01"), author="ana")
    with pytest.raises(KeyError, match="no model 'x'"):
        reg.get("x")


def test_cli_lists_approves_and_retires(tmp_path, fitted, capsys):
    from riskkit import cli

    sc, _ = fitted
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    ModelRegistry(Store(url)).register(sc, "app_sc", development_window=WINDOW, author="ana")
    assert cli.main(["model", "list", "--db-url", url]) == 0
    assert "app_sc" in capsys.readouterr().out
    code = cli.main(
        ["model", "approve", "app_sc", "1", "--approver", "ana", "--reason", "x", "--db-url", url]
    )
    assert code == 2 and "author 'ana' cannot approve" in capsys.readouterr().err
    args = ["model", "approve", "app_sc", "1", "--approver", "val", "--reason", "ok"]
    assert cli.main([*args, "--db-url", url]) == 0
    assert "approved app_sc v1 as champion of application by val" in capsys.readouterr().out
    assert cli.main(["model", "history", "app_sc", "--db-url", url]) == 0
    out = capsys.readouterr().out
    assert "registered" in out and "approved" in out
    retire = ["model", "retire", "app_sc", "1", "--by", "val", "--reason", "old"]
    assert cli.main([*retire, "--db-url", url]) == 0
    assert ModelRegistry(Store(url)).get("app_sc", 1).status == "retired"


def test_the_same_document_registered_again_is_the_same_version(db_url, fitted, refitted):
    """A month-end run that refits the same scorecard on the same data does not pile up
    drafts: the version holding the document comes back, whatever its status (unless
    retired); another document, use or window is a new draft."""
    sc, _ = fitted
    reg = ModelRegistry(Store(db_url))
    v1 = reg.register(sc, "app_sc", development_window=WINDOW, author="ana")
    again = reg.register(sc, "app_sc", development_window=WINDOW, author="bob")
    assert (again.version, again.author, again.status) == (1, "ana", "draft")
    reg.approve("app_sc", 1, approver="val", reason="ok")
    assert reg.register(sc, "app_sc", development_window=WINDOW, author="ana").role == "champion"
    assert reg.register(refitted, "app_sc", development_window=WINDOW, author="ana").version == 2
    other = ("2024-01-01", "2024-11-30")
    assert reg.register(sc, "app_sc", development_window=other, author="ana").version == 3
    assert reg.register(sc, "app_sc", use="behaviour", development_window=WINDOW,
                        author="ana").version == 4  # fmt: skip
    reg.retire("app_sc", 1, by="val", reason="withdrawn")
    back = reg.register(sc, "app_sc", development_window=WINDOW, author="ana")
    assert (back.version, back.status, back.sha256) == (5, "draft", v1.sha256)
    h = reg.history("app_sc")
    assert (h["reason"] == "registered").sum() == 5  # one registration event per version


def test_self_approval_is_refused_whatever_the_spelling(tmp_path, fitted):
    sc, _ = fitted
    reg = ModelRegistry(Store(f"sqlite:///{tmp_path / 'r.db'}"))
    reg.register(sc, "m", development_window=WINDOW, author="Ana Li")
    for me in ("ana li", " Ana  Li ", "ANA LI"):
        with pytest.raises(RegistryError, match="author 'Ana Li' cannot approve"):
            reg.approve("m", 1, approver=me, reason="mine")
    assert reg.get("m", 1).status == "draft"


def test_audit_tables_refuse_updates_and_deletes(db_url, fitted):
    sc, _ = fitted
    store = Store(db_url)
    ModelRegistry(store).register(sc, "m", development_window=WINDOW, author="ana")
    for sql in (
        "UPDATE model_events SET actor = 'someone else'",
        "DELETE FROM model_events",
        "UPDATE model_versions SET author = 'someone else'",
        "DELETE FROM model_versions",
    ):
        with pytest.raises(sa.exc.DatabaseError, match="append-only"):
            with store.transaction() as conn:
                conn.execute(sa.text(sql))
    h = ModelRegistry(store).history("m")
    assert h[["status", "actor"]].values.tolist() == [["draft", "ana"]]


class _SlowRetire(ModelRegistry):
    """Holds its retire transaction open for a moment after writing the event."""

    def __init__(self, store, written):
        super().__init__(store)
        self.written = written

    def _event(self, conn, *args):
        super()._event(conn, *args)
        self.written.set()
        time.sleep(0.5)


def test_an_approval_waits_for_a_concurrent_retirement_and_sees_it(db_url, fitted):
    """Writer 1 retires v1 and has not committed yet; writer 2 (another connection) approves
    v1. The approval must wait for the retirement and then refuse: checking the status before
    the transaction (v1 still a draft then) would approve a retired version."""
    sc, _ = fitted
    ModelRegistry(Store(db_url)).register(sc, "m", development_window=WINDOW, author="ana")
    written = threading.Event()
    slow = _SlowRetire(Store(db_url), written)
    t = threading.Thread(target=slow.retire, args=("m", 1), kwargs={"by": "val", "reason": "x"})
    t.start()
    assert written.wait(10)
    with pytest.raises(RegistryError, match="m v1 is retired"):
        ModelRegistry(Store(db_url)).approve("m", 1, approver="val", reason="ok")
    t.join()
    h = ModelRegistry(Store(db_url)).history("m")
    assert h["status"].tolist() == ["draft", "retired"]


def test_concurrent_champion_approvals_leave_one_champion(db_url, fitted, refitted):
    """Two validators approve two drafts as champion at the same moment (threads, separate
    connections): one champion at the end, the other retired by it, the trail in order."""
    sc, _ = fitted
    reg = ModelRegistry(Store(db_url))
    reg.register(sc, "m", development_window=WINDOW, author="ana")
    reg.register(refitted, "m", development_window=WINDOW, author="ana")
    go = threading.Barrier(2)
    errors: list[BaseException] = []

    def approve(version):
        go.wait()
        try:
            ModelRegistry(Store(db_url)).approve("m", version, approver="val", reason="ok")
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=approve, args=(v,)) for v in (1, 2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    cur = reg.versions()
    assert (cur["role"] == "champion").sum() == 1
    first = 2 if reg.champion().version == 1 else 1  # the one approved first, then superseded
    h = reg.history("m")
    assert h[["version", "status", "role"]].values.tolist()[2:] == [
        [first, "approved", "champion"],
        [first, "retired", ""],
        [3 - first, "approved", "champion"],
    ]
