"""Real databases for the store tests: an SQLite file, and a private PostgreSQL server that the
test session starts itself from the installed server binaries (Debian's ``postgresql``
package; ``.ci/run`` installs it when missing) and stops at the end.

The server listens on a Unix socket in a temporary folder only (no TCP port), trusts local
connections and runs without fsync; each test gets a new, empty database.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import uuid

import pytest

BACKENDS = ("sqlite", "postgresql")


def _bindir() -> str | None:
    """The newest installed server's bin folder (Debian layout), else initdb on PATH."""

    def version(path):
        v = path.split("/")[4]
        return tuple(int(x) for x in v.split(".") if x.isdigit())

    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=version, reverse=True)
    if not found and shutil.which("initdb"):
        found = [shutil.which("initdb")]
    return os.path.dirname(found[0]) if found else None


def _cannot_run() -> str | None:
    """Why this machine cannot start a private server, or None."""
    if _bindir() is None:
        return "PostgreSQL server binaries (initdb) are not installed; .ci/run installs them"
    if os.geteuid() == 0:
        import pwd

        if shutil.which("runuser") is None:
            return "running as root needs runuser to start PostgreSQL as another user"
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            return "running as root needs a 'postgres' system user to start PostgreSQL"
    return None


def _free_port() -> int:
    # the server binds a Unix socket only; the port number just names the socket file
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PostgresServer:
    def __init__(self, bindir: str):
        self.bindir = bindir
        # directly under /tmp, whatever TMPDIR says: the socket path must stay under 108 bytes
        # and every parent folder must be open to the postgres user
        self.base = tempfile.mkdtemp(prefix="rk-pg-", dir="/tmp")
        self.data = os.path.join(self.base, "data")
        self.port = _free_port()
        # PostgreSQL refuses to run as root: run it as the postgres system user then
        self.as_user = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        if self.as_user:
            shutil.chown(self.base, "postgres")

    def _run(self, *args):
        cmd = self.as_user + [os.path.join(self.bindir, args[0]), *args[1:]]
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
        if p.returncode:
            raise RuntimeError(f"{' '.join(cmd)} failed:\n{p.stdout}\n{p.stderr}")

    def start(self) -> None:
        self._run("initdb", "-D", self.data, "-A", "trust", "-U", "riskkit", "-E", "UTF8",
                  "--locale=C", "--no-sync")  # fmt: skip
        opts = f"-k {self.base} -p {self.port} -c listen_addresses='' -c fsync=off"
        self._run("pg_ctl", "-D", self.data, "-l", os.path.join(self.base, "log"), "-o", opts,
                  "-w", "start")  # fmt: skip

    def stop(self) -> None:
        try:
            if os.path.exists(os.path.join(self.data, "postmaster.pid")):
                self._run("pg_ctl", "-D", self.data, "-m", "immediate", "-w", "stop")
        finally:
            shutil.rmtree(self.base, ignore_errors=True)

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://riskkit@/{database}?host={self.base}&port={self.port}"

    def new_database(self) -> str:
        import sqlalchemy as sa

        name = "t_" + uuid.uuid4().hex[:12]
        engine = sa.create_engine(self.url(), isolation_level="AUTOCOMMIT")
        with engine.connect() as c:
            c.execute(sa.text(f"CREATE DATABASE {name}"))
        engine.dispose()
        return self.url(name)


@pytest.fixture(scope="session")
def postgres_server():
    why = _cannot_run()
    if why:
        pytest.skip(why)
    pytest.importorskip("psycopg", reason="the dev extra installs psycopg")
    server = PostgresServer(_bindir())
    try:
        server.start()  # a failure here is an error (with the server's output), not a skip
        yield server
    finally:
        server.stop()


@pytest.fixture(params=BACKENDS)
def db_url(request, tmp_path):
    """URL of a new empty database: an SQLite file, then a PostgreSQL database."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'rk.db'}"
    return request.getfixturevalue("postgres_server").new_database()
