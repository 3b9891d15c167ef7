"""A throwaway PostgreSQL cluster that the test session starts and removes itself.

The cluster lives in a temporary folder owned by the ``postgres`` OS user (``initdb``
refuses to run as root; as any other user it runs as that user), trusts loopback
connections, listens only on 127.0.0.1 on a free port and keeps its unix socket
inside the folder, so it never meets a system PostgreSQL. Each test gets its own
database cloned from ``template0`` and dropped afterwards.
"""

from __future__ import annotations

import atexit
import itertools
import os
import pwd
import shlex
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

SERVER_OS_USER = "postgres"
SUPERUSER = "postgres"
BINARIES = ("initdb", "pg_ctl", "postgres")
DEBIAN_BIN_GLOB = "/usr/lib/postgresql/*/bin"
# pg_ctl's own default; a cold start on a loaded 2-core CI box takes about 1 s.
START_TIMEOUT_S = 60
PORT_ATTEMPTS = 3


class PostgresUnavailable(RuntimeError):
    """This machine cannot run a throwaway cluster; the message says what to install."""


def find_bin_dir() -> Path:
    """The folder holding ``initdb``, ``pg_ctl`` and ``postgres``.

    Looks at ``initdb`` on PATH first (following symlinks such as
    ``/usr/local/bin/initdb``), then at Debian's ``/usr/lib/postgresql/<major>/bin``,
    newest major first.

    Raises:
        PostgresUnavailable: no folder holds all three binaries.
    """
    candidates: list[Path] = []
    on_path = shutil.which("initdb")
    if on_path:
        candidates.append(Path(on_path).resolve().parent)
    debian = sorted(Path("/").glob(DEBIAN_BIN_GLOB.lstrip("/")), key=_major, reverse=True)
    candidates.extend(debian)
    for folder in candidates:
        if all(os.access(folder / name, os.X_OK) for name in BINARIES):
            return folder
    looked = ", ".join(str(c) for c in candidates) or "nowhere else"
    raise PostgresUnavailable(
        f"PostgreSQL server binaries ({', '.join(BINARIES)}) not found on PATH or in "
        f"{DEBIAN_BIN_GLOB} (looked in: {looked}). The postgresql-parametrized tests "
        "need them: run scripts/setup, which installs Debian's `postgresql` package."
    )


def _major(bin_dir: Path) -> int:
    name = bin_dir.parent.name
    return int(name) if name.isdigit() else 0


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class PostgresCluster:
    """A running throwaway cluster. Build it with :meth:`start_new`; :meth:`stop` removes it."""

    def __init__(self, root: Path, bin_dir: Path) -> None:
        self.root = root
        self.bin_dir = bin_dir
        self.port = 0
        self._names = itertools.count(1)
        self._admin: psycopg.Connection[Any] | None = None
        self._stopped = False
        self._owner = self._server_owner()

    @property
    def data_dir(self) -> Path:
        return self.root / "data"

    @property
    def socket_dir(self) -> Path:
        return self.root / "socket"

    @property
    def log_file(self) -> Path:
        return self.root / "postgres.log"

    @classmethod
    def start_new(cls) -> PostgresCluster:
        """Create, configure and start a cluster in a fresh temporary folder.

        Raises:
            PostgresUnavailable: binaries or the ``postgres`` OS user are missing, or
                the server would not start (the message carries its log).
        """
        bin_dir = find_bin_dir()
        root = Path(tempfile.mkdtemp(prefix="assay-pg-"))
        cluster = cls(root, bin_dir)
        # Backstop for exits that skip pytest's session teardown.
        atexit.register(cluster.stop)
        try:
            cluster._initdb()
            cluster._start()
        except BaseException:
            cluster.stop()
            raise
        return cluster

    def url(self, database: str) -> str:
        """SQLAlchemy URL of ``database`` in this cluster."""
        return f"postgresql+psycopg://{SUPERUSER}@127.0.0.1:{self.port}/{database}"

    def create_database(self, template: str = "template0", name: str | None = None) -> str:
        """Create a database (a copy of ``template``: empty by default) and return its
        name, a unique one unless ``name`` is given."""
        name = name or f"assay_test_{os.getpid()}_{next(self._names)}"
        self._admin_execute(
            sql.SQL("CREATE DATABASE {} TEMPLATE {} ENCODING 'UTF8'").format(
                sql.Identifier(name), sql.Identifier(template)
            )
        )
        return name

    def drop_database(self, name: str) -> None:
        """Drop ``name``, closing any connection a test left open."""
        self._admin_execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )

    def stop(self) -> None:
        """Stop the server and delete its folder. Safe to call more than once."""
        if self._stopped:
            return
        self._stopped = True
        if self._admin is not None:
            self._admin.close()
            self._admin = None
        if (self.data_dir / "postmaster.pid").exists():
            # Immediate: the data is thrown away, so skip the shutdown checkpoint.
            self._run(
                [self._bin("pg_ctl"), "-D", str(self.data_dir), "-m", "immediate", "-w", "stop"],
                check=False,
            )
        shutil.rmtree(self.root, ignore_errors=True)

    # -- internals -------------------------------------------------------------

    @staticmethod
    def _server_owner() -> tuple[int, int] | None:
        """uid/gid the server runs as when we are root; None to run as ourselves."""
        if os.geteuid() != 0:
            return None
        try:
            entry = pwd.getpwnam(SERVER_OS_USER)
        except KeyError:
            raise PostgresUnavailable(
                "running as root, so the throwaway PostgreSQL cluster must run as the "
                f"`{SERVER_OS_USER}` OS user (initdb refuses root), and that user does "
                f"not exist: create it with `useradd --system {SERVER_OS_USER}` "
                "(scripts/setup does)"
            ) from None
        return entry.pw_uid, entry.pw_gid

    def _bin(self, name: str) -> str:
        return str(self.bin_dir / name)

    def _as_server_user(self, argv: list[str]) -> list[str]:
        if self._owner is None:
            return argv
        runuser = shutil.which("runuser")
        if runuser:
            return [runuser, "-u", SERVER_OS_USER, "--", *argv]
        return ["su", SERVER_OS_USER, "-s", "/bin/sh", "-c", shlex.join(argv)]

    def _run(self, argv: list[str], *, check: bool = True) -> subprocess.CompletedProcess[str]:
        # cwd: the postgres user may not be allowed into the caller's folder.
        proc = subprocess.run(
            self._as_server_user(argv),
            cwd=self.root,
            capture_output=True,
            text=True,
            check=False,
            stdin=subprocess.DEVNULL,
        )
        if check and proc.returncode != 0:
            raise PostgresUnavailable(
                f"{shlex.join(argv)} failed with exit code {proc.returncode}:\n"
                f"{proc.stdout}{proc.stderr}"
            )
        return proc

    def _initdb(self) -> None:
        self.socket_dir.mkdir()
        if self._owner is not None:
            for path in (self.root, self.socket_dir):
                os.chown(path, *self._owner)
        self._run(
            [
                self._bin("initdb"),
                "-D",
                str(self.data_dir),
                "-U",
                SUPERUSER,
                "--auth=trust",
                "--encoding=UTF8",
                "--locale=C",
                # Skips initdb's final flush of a cluster that is thrown away.
                "--no-sync",
                "--no-instructions",
            ]
        )
        with (self.data_dir / "postgresql.conf").open("a", encoding="utf-8") as conf:
            conf.write(
                "\n# assay test session\n"
                "listen_addresses = '127.0.0.1'\n"
                f"unix_socket_directories = '{self.socket_dir}'\n"
                # A cluster thrown away at the end of the session needs no crash safety
                # against power loss: every commit and CREATE DATABASE skipping fsync
                # took the suite's PostgreSQL half from ~5 to ~2 minutes. (The tests
                # kill assay, never PostgreSQL, so no test depends on it.)
                "fsync = off\n"
                "synchronous_commit = off\n"
                "full_page_writes = off\n"
            )

    def _start(self) -> None:
        for _attempt in range(PORT_ATTEMPTS):
            # Another process may take the port between probe and bind; retry then.
            port = _free_port()
            proc = self._run(
                [
                    self._bin("pg_ctl"),
                    "-D",
                    str(self.data_dir),
                    "-l",
                    str(self.log_file),
                    "-w",
                    "-t",
                    str(START_TIMEOUT_S),
                    "-o",
                    f"-p {port}",
                    "start",
                ],
                check=False,
            )
            if proc.returncode == 0:
                self.port = port
                return
        log = self.log_file.read_text(errors="replace") if self.log_file.exists() else ""
        raise PostgresUnavailable(
            f"pg_ctl could not start the throwaway cluster in {self.data_dir}:\n"
            f"{proc.stdout}{proc.stderr}\n--- server log ---\n{log[-4000:]}"
        )

    def _admin_execute(self, statement: sql.Composed) -> None:
        if self._admin is None or self._admin.closed:
            self._admin = psycopg.connect(
                host="127.0.0.1",
                port=self.port,
                user=SUPERUSER,
                dbname="postgres",
                autocommit=True,
            )
        self._admin.execute(statement)
