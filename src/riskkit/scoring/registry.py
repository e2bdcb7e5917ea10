"""The model registry: versioned scorecards in the store, approved by a named person, one
champion per use that every report, dashboard and lending decision reads.

* A **version** is a scorecard's JSON document (never pickle), stored once and never changed,
  with its use (``application`` or ``behaviour``), development window, author, metrics and the
  SHA-256 of the document (checked on every load).
* Its **status** moves ``draft -> approved -> retired`` by events in an append-only audit table
  (who, when, why); an approved version is the **champion** of its use or a **challenger**.
  Approving a new champion retires the previous one, in the same transaction. The author of a
  version cannot approve it (separation of duties; names compared without case and surrounding
  spaces).
* **Registering a document again** (the same JSON, SHA-256 equal, for the same name, use and
  development window) returns the version already holding it, unless that one is retired: a
  month-end run that refits the same scorecard on the same data does not pile up drafts, and
  the reports keep naming the version in force. A retired document registered again becomes a
  new draft (retired is final; bringing a model back goes through approval again).
* **Concurrent writers**: every registry write reads the current status inside its own
  transaction, under the store's write lock (SQLite) or a transaction-scoped advisory lock
  (PostgreSQL), so two approvals never leave two champions and nothing is approved after it
  was retired.

Tables: ``model_versions`` (one row per version) and ``model_events`` (numbered); both are
append-only, enforced by the database (triggers refuse UPDATE and DELETE).

Examples
--------
>>> import numpy as np, pandas as pd
>>> from riskkit.scoring import Scorecard
>>> from riskkit.store import Store
>>> rng = np.random.default_rng(0)
>>> X = pd.DataFrame({"income": rng.normal(size=2000)})
>>> y = (rng.random(2000) < 1 / (1 + np.exp(2 + X["income"]))).astype(int)
>>> reg = ModelRegistry(Store("sqlite://"))
>>> v = reg.register(Scorecard().fit(X, y), "application_scorecard", use="application",
...                  development_window=("2024-01-01", "2024-12-31"), author="analyst")
>>> v.label, v.status
('application_scorecard v1', 'draft')
>>> reg.approve("application_scorecard", 1, approver="validator", reason="validated").role
'champion'
>>> reg.champion("application").label
'application_scorecard v1'
>>> reg.register(Scorecard().fit(X, y), "application_scorecard", use="application",
...              development_window=("2024-01-01", "2024-12-31"), author="analyst").label
'application_scorecard v1'
"""

from __future__ import annotations

import hashlib
import html
import json
from dataclasses import dataclass, field

import pandas as pd
import sqlalchemy as sa

from ..errors import ProblemCollector

VERSIONS = "model_versions"
EVENTS = "model_events"
USES = ("application", "behaviour")
STATUSES = ("draft", "approved", "retired")
ROLES = ("champion", "challenger")


class RegistryError(ValueError):
    """A registry action the rules do not allow (the message names the version and the rule)."""


@dataclass(frozen=True)
class ModelVersion:
    """One registered scorecard version and its current status (see :class:`ModelRegistry`)."""

    name: str
    version: int
    use: str
    status: str
    role: str | None
    development_start: pd.Timestamp
    development_end: pd.Timestamp
    author: str
    registered_at: pd.Timestamp
    sha256: str
    description: str = ""
    metrics: dict = field(default_factory=dict)
    approved_by: str | None = None
    approved_at: pd.Timestamp | None = None
    document: str = field(default="", repr=False)

    @property
    def label(self) -> str:
        """``name vN``, the way reports name the model."""
        return f"{self.name} v{self.version}"

    @property
    def development_window(self) -> str:
        """``YYYY-MM-DD to YYYY-MM-DD`` (applications the model was developed on)."""
        return f"{self.development_start:%Y-%m-%d} to {self.development_end:%Y-%m-%d}"

    def scorecard(self):
        """The scorecard, rebuilt from the stored JSON document (checksum verified)."""
        from .scorecard import Scorecard

        if hashlib.sha256(self.document.encode("utf-8")).hexdigest() != self.sha256:
            raise RegistryError(f"{self.label}: stored document does not match its SHA-256")
        return Scorecard.from_json(self.document)

    def to_frame(self) -> pd.DataFrame:
        """One row: name, version, use, status, role, window, author, approver."""
        keys: tuple[str, ...] = ("name", "version", "use", "status", "role", "development_start")
        keys += ("development_end", "author", "registered_at", "approved_by", "approved_at")
        return pd.DataFrame([{k: getattr(self, k) for k in keys}])

    def __repr__(self) -> str:
        role = f", {self.role}" if self.role else ""
        return (
            f"ModelVersion({self.label}, {self.use}, {self.status}{role}, developed on "
            f"{self.development_window}, by {self.author})"
        )

    def _repr_html_(self) -> str:
        return f"<b>{html.escape(repr(self))}</b>" + self.to_frame().to_html(index=False)


class ModelRegistry:
    """Versioned scorecards with an audited approval trail, in a :class:`riskkit.store.Store`.

    Parameters
    ----------
    store : riskkit.store.Store
    """

    def __init__(self, store):
        self.store = store

    def __repr__(self) -> str:
        return f"ModelRegistry({self.store!r})"

    # ------------------------------------------------------------------ writing
    def register(
        self,
        scorecard,
        name: str,
        *,
        use: str = "application",
        development_window,
        author: str,
        description: str = "",
        metrics: dict | None = None,
        when=None,
    ) -> ModelVersion:
        """Store ``scorecard`` as the next version of ``name``, status ``draft``; or return the
        version that already holds the same document (see the module docstring).

        ``development_window``: (first, last) application date of the development sample.
        """
        doc = scorecard.to_json()
        start, end = _window(development_window)
        _check_text(name=name, author=author)
        if use not in USES:
            raise RegistryError(f"use must be one of {USES}, got {use!r}")
        sha = hashlib.sha256(doc.encode("utf-8")).hexdigest()
        now = _now(when)
        with self.store.transaction() as conn:
            _lock(conn)
            version = self._same_document(conn, name, use, sha, start, end)
            if version is None:
                version = self._next_version(conn, name)
                row = {
                    "name": name,
                    "version": version,
                    "use": use,
                    "development_start": start,
                    "development_end": end,
                    "author": author,
                    "registered_at": now,
                    "description": description,
                    "metrics": json.dumps(metrics or {}, default=str, sort_keys=True),
                    "sha256": sha,
                    "document": doc,
                }
                self.store.append(VERSIONS, pd.DataFrame([row]), conn=conn)
                self._event(conn, name, version, "draft", None, author, now, "registered")
                _guard_tables(conn)
        return self.get(name, version)

    def approve(
        self,
        name: str,
        version: int,
        *,
        approver: str,
        reason: str,
        role: str = "champion",
        when=None,
    ) -> ModelVersion:
        """Approve a draft (or promote an approved challenger) as ``champion`` or
        ``challenger``. A new champion retires the previous champion of the same use."""
        _check_text(approver=approver, reason=reason)
        if role not in ROLES:
            raise RegistryError(f"role must be one of {ROLES}, got {role!r}")
        now = _now(when)
        with self.store.transaction() as conn:
            _lock(conn)
            cur = self._current(conn)
            v = _row(cur, name, version)
            label = f"{name} v{int(version)}"
            if v["status"] == "retired" or (v["status"] == "approved" and v["role"] == role):
                raise RegistryError(f"{label} is {v['status']} ({v['role'] or 'no role'}): "
                                    f"cannot {role}")  # fmt: skip
            if _same_person(approver, v["author"]):
                raise RegistryError(f"{label}: its author {v['author']!r} cannot approve it")
            if role == "champion":
                old = cur[(cur["use"] == v["use"]) & (cur["role"] == "champion")]
                for _, o in old.iterrows():
                    self._event(conn, o["name"], int(o["version"]), "retired", None, approver,
                                now, f"superseded by {label}: {reason}")  # fmt: skip
            self._event(conn, name, version, "approved", role, approver, now, reason)
        return self.get(name, version)

    def retire(self, name: str, version: int, *, by: str, reason: str, when=None):
        """Retire a version (draft or approved); retired is final. Retiring the champion
        leaves its use without one until a successor is approved."""
        _check_text(by=by, reason=reason)
        with self.store.transaction() as conn:
            _lock(conn)
            if _row(self._current(conn), name, version)["status"] == "retired":
                raise RegistryError(f"{name} v{int(version)} is already retired")
            self._event(conn, name, version, "retired", None, by, _now(when), reason)
        return self.get(name, version)

    # ------------------------------------------------------------------ reading
    def versions(self) -> pd.DataFrame:
        """Every version with its current status and role (no documents)."""
        if not self.store.has_table(VERSIONS):
            return _empty_current()
        with self.store.engine.connect() as conn:
            return self._current(conn)

    def history(self, name: str | None = None) -> pd.DataFrame:
        """The audit trail: every event (registered, approved, retired), oldest first."""
        if not self.store.has_table(EVENTS):
            return pd.DataFrame(columns=["event_id", "name", "version", "status", "role"])
        ev = self.store.read(EVENTS, where={"name": name} if name else None, order_by="event_id")
        return ev.reset_index(drop=True)

    def get(self, name: str, version: int | None = None) -> ModelVersion:
        """A version (default: the latest of ``name``) with its document."""
        cur = self.versions()
        rows = cur[cur["name"] == name]
        if version is not None:
            rows = rows[rows["version"] == int(version)]
        if rows.empty:
            known = sorted(f"{n} v{v}" for n, v in zip(cur["name"], cur["version"], strict=True))
            raise KeyError(f"no model {name!r} version {version} in the registry; known: {known}")
        row = rows.sort_values("version").iloc[-1]
        doc = self.store.read(VERSIONS, where={"name": name, "version": int(row["version"])})
        return _version(row, doc.iloc[0])

    def champion(self, use: str = "application") -> ModelVersion:
        """The approved champion of ``use``; an error says how to approve one if none is (and
        which champion was retired, by whom, if one was)."""
        cur = self.versions()
        rows = cur[(cur["use"] == use) & (cur["role"] == "champion")]
        if len(rows) > 1:  # approvals are serialised, so only a hand-edited store gets here
            labels = [f"{n} v{v}" for n, v in zip(rows["name"], rows["version"], strict=True)]
            raise RegistryError(f"{len(rows)} {use} champions in the registry: {labels}")
        if rows.empty:
            raise LookupError(
                f"no approved {use} champion in the model registry of {self.store!r}"
                f"{self._last_champion(cur, use)}: register a draft (score_calibration "
                "report) and approve it with "
                "`riskkit model approve NAME VERSION --approver WHO --reason WHY`"
            )
        r = rows.iloc[0]
        return self.get(r["name"], int(r["version"]))

    def _last_champion(self, cur: pd.DataFrame, use: str) -> str:
        """``" (NAME vN, the last champion, was retired ...)"`` or ``""``."""
        ev = self.history()
        if ev.empty:
            return ""
        mine = cur[cur["use"] == use]
        keys = set(zip(mine["name"], mine["version"], strict=True))
        ev = ev[[(n, v) in keys for n, v in zip(ev["name"], ev["version"], strict=True)]]
        was = ev[(ev["status"] == "approved") & (ev["role"] == "champion")]
        if was.empty:
            return ""
        last = was.iloc[-1]
        gone = ev[(ev["name"] == last["name"]) & (ev["version"] == last["version"])].iloc[-1]
        return (
            f" ({last['name']} v{last['version']}, the last champion, was retired on "
            f"{pd.Timestamp(gone['event_time']):%Y-%m-%d} by {gone['actor']}: {gone['reason']})"
        )

    def challengers(self, use: str = "application") -> list[ModelVersion]:
        cur = self.versions()
        rows = cur[(cur["use"] == use) & (cur["role"] == "challenger")]
        return [self.get(n, int(v)) for n, v in zip(rows["name"], rows["version"], strict=True)]

    # ------------------------------------------------------------------ internals
    def _next_version(self, conn, name: str) -> int:
        if not sa.inspect(conn).has_table(VERSIONS):
            return 1
        cur = conn.execute(
            sa.text(f"SELECT MAX(version) FROM {VERSIONS} WHERE name = :n"), {"n": name}
        ).scalar()
        return int(cur or 0) + 1

    def _same_document(self, conn, name, use, sha, start, end) -> int | None:
        """The version of ``name`` holding the document ``sha`` for the same use and window,
        unless retired; None if there is none."""
        if not sa.inspect(conn).has_table(VERSIONS):
            return None
        cur = self._current(conn)
        same = cur[
            (cur["name"] == name)
            & (cur["sha256"] == sha)
            & (cur["use"] == use)
            & (cur["development_start"] == start)
            & (cur["development_end"] == end)
            & (cur["status"] != "retired")
        ]
        return None if same.empty else int(same["version"].iloc[-1])

    def _event(self, conn, name, version, status, role, actor, when, reason) -> None:
        ev = pd.DataFrame(
            [
                {
                    "name": name,
                    "version": int(version),
                    "status": status,
                    "role": role or "",
                    "actor": actor,
                    "event_time": when,
                    "reason": reason,
                }
            ]
        )
        self.store.append_numbered(EVENTS, ev, "event_id", conn)

    def _current(self, conn) -> pd.DataFrame:
        versions = pd.read_sql(
            sa.text(
                f"SELECT name, version, use, development_start, development_end, author, "
                f"registered_at, sha256, description, metrics FROM {VERSIONS}"
            ),
            conn,
        )
        events = pd.read_sql(sa.text(f"SELECT * FROM {EVENTS} ORDER BY event_id"), conn)
        return _current_status(versions, events)


#: Key of the PostgreSQL advisory lock that serialises registry writes (SQLite transactions
#: take the database's write lock when they begin).
LOCK_KEY = 0x726B6D72  # "rkmr"


def _lock(conn) -> None:
    """Serialise registry writers for the rest of the transaction ``conn``."""
    if conn.dialect.name == "postgresql":
        conn.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": LOCK_KEY})


def _guard_tables(conn) -> None:
    """A unique (name, version) index, and triggers that refuse UPDATE and DELETE on both
    registry tables (created once; also added to tables written by an older riskkit)."""
    conn.execute(
        sa.text(f"CREATE UNIQUE INDEX IF NOT EXISTS ux_{VERSIONS} ON {VERSIONS} (name, version)")
    )
    for table in (VERSIONS, EVENTS):
        for statement in _append_only_sql(conn.dialect.name, table):
            conn.execute(sa.text(statement))


def _append_only_sql(dialect: str, table: str) -> list[str]:
    message = f"{table} is append-only (model registry audit trail)"
    if dialect == "sqlite":
        return [
            f"CREATE TRIGGER IF NOT EXISTS {table}_no_{op.lower()} BEFORE {op} ON {table} "
            f"BEGIN SELECT RAISE(ABORT, '{message}'); END"
            for op in ("UPDATE", "DELETE")
        ]
    if dialect == "postgresql":
        return [
            "CREATE OR REPLACE FUNCTION riskkit_append_only() RETURNS trigger AS $$ BEGIN "
            "RAISE EXCEPTION '% is append-only (model registry audit trail)', TG_TABLE_NAME; "
            "END $$ LANGUAGE plpgsql",
            f"DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_trigger WHERE tgname = "
            f"'{table}_append_only') THEN CREATE TRIGGER {table}_append_only BEFORE UPDATE OR "
            f"DELETE ON {table} FOR EACH ROW EXECUTE FUNCTION riskkit_append_only(); END IF; "
            "END $$",
        ]
    return []  # other databases: append-only by this module's API only


def _row(cur: pd.DataFrame, name: str, version: int) -> pd.Series:
    """The current row of ``name`` ``version`` (KeyError naming the known versions)."""
    rows = cur[(cur["name"] == name) & (cur["version"] == int(version))]
    if rows.empty:
        known = sorted(f"{n} v{v}" for n, v in zip(cur["name"], cur["version"], strict=True))
        raise KeyError(f"no model {name!r} version {version} in the registry; known: {known}")
    return rows.iloc[0]


def _same_person(a: str, b: str) -> bool:
    """Names compared as a person would: case and surrounding spaces ignored."""
    return " ".join(str(a).split()).casefold() == " ".join(str(b).split()).casefold()


def _current_status(versions: pd.DataFrame, events: pd.DataFrame) -> pd.DataFrame:
    """Versions with the status and role of their last event and their approval."""
    last = events.groupby(["name", "version"], sort=False).tail(1).set_index(["name", "version"])
    appr = events[events["status"] == "approved"].groupby(["name", "version"]).head(1)
    appr = appr.set_index(["name", "version"])
    out = versions.set_index(["name", "version"])
    out["status"] = last["status"].reindex(out.index)
    out["role"] = last["role"].reindex(out.index).replace("", None)
    out["approved_by"] = appr["actor"].reindex(out.index)
    out["approved_at"] = pd.to_datetime(appr["event_time"].reindex(out.index), format="ISO8601")
    for c in ("development_start", "development_end", "registered_at"):
        out[c] = pd.to_datetime(out[c], format="ISO8601")
    out = out.reset_index().sort_values(["use", "name", "version"], kind="stable")
    return out.reset_index(drop=True)


def _empty_current() -> pd.DataFrame:
    cols = ["name", "version", "use", "status", "role", "development_start", "development_end"]
    return pd.DataFrame(columns=cols)


def _version(row, stored) -> ModelVersion:
    return ModelVersion(
        name=str(row["name"]),
        version=int(row["version"]),
        use=str(row["use"]),
        status=str(row["status"]),
        role=None if pd.isna(row["role"]) else str(row["role"]),
        development_start=pd.Timestamp(row["development_start"]),
        development_end=pd.Timestamp(row["development_end"]),
        author=str(row["author"]),
        registered_at=pd.Timestamp(row["registered_at"]),
        sha256=str(row["sha256"]),
        description=str(row["description"] or ""),
        metrics=json.loads(row["metrics"] or "{}"),
        approved_by=None if pd.isna(row["approved_by"]) else str(row["approved_by"]),
        approved_at=None if pd.isna(row["approved_at"]) else pd.Timestamp(row["approved_at"]),
        document=str(stored["document"]),
    )


def _window(window) -> tuple[pd.Timestamp, pd.Timestamp]:
    try:
        start, end = (pd.Timestamp(w).normalize() for w in window)
    except (TypeError, ValueError) as exc:
        raise RegistryError(f"development_window must be two dates, got {window!r}") from exc
    if end < start:
        raise RegistryError(f"development window ends ({end.date()}) before it starts")
    return start, end


def _check_text(**values) -> None:
    pc = ProblemCollector("model registry")
    for k, v in values.items():
        if not isinstance(v, str) or not v.strip():
            pc.add("model_events", k, "required: a non-empty text")
    pc.raise_if_any()


def _now(when) -> pd.Timestamp:
    return pd.Timestamp.now().floor("s") if when is None else pd.Timestamp(when)
