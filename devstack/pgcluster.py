"""A PostgreSQL server of one's own, for drills and tests that stop and restart the database.

Stopping the machine's PostgreSQL would pull it from under everyone else using it (other test runs, other
services). This cluster lives in a directory of its own (``initdb``), listens on a free loopback port with
trust authentication, keeps its socket in that directory, and is removed afterwards. As root, the server
runs as the ``postgres`` user, since PostgreSQL refuses to run as root.
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from sqlalchemy import create_engine, text

from devstack.broker import free_port, wait_for_port


def _bindir() -> Path:
    """The newest installed PostgreSQL's binaries (Debian keeps them out of PATH)."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(Path(p).parts[-3]))
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    if initdb is None:
        raise RuntimeError("no PostgreSQL server binaries found (initdb): install postgresql")
    return Path(initdb).parent


class PostgresCluster:
    """One private PostgreSQL server: start, stop, restart, databases, and removal of everything."""

    def __init__(self, *, port: int | None = None) -> None:
        # Its own directory under the system's temporary directory: a test's tmp_path is private to root,
        # and the server (the postgres user) must be able to reach its files.
        self.dir = Path(tempfile.mkdtemp(prefix="wuxi-pgcluster-"))
        self.data = self.dir / "data"
        self.port = port or free_port()
        self.bindir = _bindir()
        self._as_postgres = os.geteuid() == 0

    @property
    def admin_url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def url(self, database: str) -> str:
        """The URL of a database on this server."""
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def _run(self, *args: str) -> None:
        cmd = [str(self.bindir / args[0]), *args[1:]]
        if self._as_postgres:
            cmd = ["runuser", "-u", "postgres", "--", *cmd]
        done = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        if done.returncode != 0:
            raise RuntimeError(f"{args[0]} failed ({done.returncode}): {done.stderr.strip()}")

    def init(self) -> PostgresCluster:
        """Create the cluster's files (superuser ``postgres``, trust authentication)."""
        if self._as_postgres:
            shutil.chown(self.dir, "postgres", "postgres")
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8",
                  "--locale=C.UTF-8")
        return self

    def start(self) -> None:
        """Start the server and wait until it accepts connections."""
        opts = (f"-c listen_addresses=127.0.0.1 -c port={self.port} -c unix_socket_directories={self.dir} "
                "-c max_connections=200")
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.dir / "server.log"), "-o", opts, "-w", "start")
        wait_for_port(self.port)

    def stop(self) -> None:
        """Stop the server at once (fast shutdown: open connections are cut, as in an outage)."""
        self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")

    def restart_after(self, down_s: float) -> None:
        """An outage: stop, stay down for ``down_s`` seconds, start again."""
        self.stop()
        time.sleep(down_s)
        self.start()

    def create_database(self, name: str) -> str:
        """Create a database and return its URL."""
        engine = create_engine(self.admin_url.replace("postgresql://", "postgresql+psycopg://"),
                               isolation_level="AUTOCOMMIT")
        try:
            with engine.connect() as conn:
                conn.execute(text(f'CREATE DATABASE "{name}"'))
        finally:
            engine.dispose()
        return self.url(name)

    def remove(self) -> None:
        """Stop the server if it runs and delete every file of the cluster."""
        if (self.data / "postmaster.pid").exists():
            with contextlib.suppress(RuntimeError):
                self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")
        shutil.rmtree(self.dir, ignore_errors=True)
