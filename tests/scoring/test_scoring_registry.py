"""The model registry: versions, draft -> approved -> retired, one champion per use, an
append-only audit trail, on SQLite and PostgreSQL."""

from __future__ import annotations

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


def test_lifecycle_and_audit_trail(db_url, fitted):
    sc, X = fitted
    reg = ModelRegistry(Store(db_url))
    with pytest.raises(LookupError, match="riskkit model approve NAME VERSION"):
        reg.champion("application")
    v1 = reg.register(sc, "app_sc", development_window=WINDOW, author="ana", when="2025-01-05")
    v2 = reg.register(sc, "app_sc", development_window=WINDOW, author="ana", when="2025-02-05")
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
    assert (again.predict_proba(X) == sc.predict_proba(X)).all()
    reg.retire("app_sc", 2, by="cro", reason="withdrawn")
    with pytest.raises(LookupError):
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
    with store.transaction() as conn:
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
