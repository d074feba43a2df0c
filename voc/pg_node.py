"""A local PostgreSQL server for development and CI, from Debian's packages (``apt-get install postgresql``).

Like the Elasticsearch node (``voc.es_node``), the server is the project's own: a cluster of its own
under a directory voc manages, on 127.0.0.1 only, with a generated password. Layout::

    <dir>/node/ or <dir>/nodes/<name>/
        data/               the cluster (initdb), owned by the server's user
        socket/             its Unix socket directory (not /var/run/postgresql, which may not exist)
        server.log          pg_ctl's log
        credentials.json    user and password of the cluster's superuser, readable by the invoker only

PostgreSQL refuses to run as root, so when root starts it the server runs as ``run_as`` (Debian's
``postgres`` user). ``scripts/test.sh`` names a node per checkout on a free port, so two test runs on
one machine never share (or stop) each other's server.

Usage: ``voc pg start|stop|status|url``.
"""

from __future__ import annotations

import json
import os
import pwd
import re
import secrets
import shutil
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from voc.settings import VocSettings

SUPERUSER = "voc"
DATABASE = "voc"
_VERSION_RE = re.compile(r"/(\d+)/bin$")


class PgNodeError(RuntimeError):
    """The server could not be found, created, started or stopped; the message says why."""


def default_dir(environ: Mapping[str, str] | None = None) -> Path:
    env = os.environ if environ is None else environ
    if env.get("VOC_PG_DIR"):
        return Path(env["VOC_PG_DIR"])
    if os.geteuid() == 0:  # the server's own user must be able to reach its data: not under /root
        return Path("/var/tmp/voc-postgres")
    return Path(env.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "voc" / "postgres"


def find_bin_dir(explicit: Path | None = None) -> Path:
    """The directory of initdb and pg_ctl: ``explicit`` (VOC_PG_BIN_DIR), else the newest
    /usr/lib/postgresql/N/bin (Debian keeps them off PATH), else pg_config's."""
    if explicit is not None:  # a directory asked for by name is the only one tried
        candidates = [explicit]
    else:
        candidates = sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True,
                            key=lambda p: int(m.group(1)) if (m := _VERSION_RE.search(str(p))) else 0)
        pg_config = shutil.which("pg_config")
        if pg_config:
            out = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True, check=False).stdout.strip()
            if out:
                candidates.append(Path(out))
    for directory in candidates:
        if (directory / "initdb").is_file() and (directory / "pg_ctl").is_file():
            return directory
    hint = f" (looked in {explicit})" if explicit else ""
    raise PgNodeError(f"PostgreSQL server binaries (initdb, pg_ctl) not found{hint}: install Debian's "
                      "`postgresql` package (apt-get install postgresql) or set VOC_PG_BIN_DIR")


@dataclass(slots=True)
class PgConfig:
    root: Path
    port: int = 55432
    node_name: str | None = None
    run_as: str = "postgres"  # only used when started by root
    bin_dir: Path | None = None

    @classmethod
    def from_settings(cls, settings: VocSettings) -> PgConfig:
        return cls(root=settings.pg_dir or default_dir(), port=settings.pg_port, node_name=settings.pg_node_name,
                   run_as=settings.pg_run_as, bin_dir=settings.pg_bin_dir)

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> PgConfig:
        """From an explicit mapping of VOC_PG_* variables (the test suite reads them before isolating)."""
        return cls(root=default_dir(environ), port=int(environ.get("VOC_PG_PORT") or 55432),
                   node_name=environ.get("VOC_PG_NODE_NAME") or None,
                   run_as=environ.get("VOC_PG_RUN_AS") or "postgres",
                   bin_dir=Path(environ["VOC_PG_BIN_DIR"]) if environ.get("VOC_PG_BIN_DIR") else None)


@dataclass(slots=True)
class PgStatus:
    running: bool
    url: str  # without the password

    def to_dict(self) -> dict[str, Any]:
        return {"running": self.running, "url": self.url}


class PgNode:
    def __init__(self, config: PgConfig | None = None) -> None:
        self.config = config or PgConfig.from_settings(VocSettings())
        name = self.config.node_name
        if name is not None and not re.fullmatch(r"[A-Za-z0-9_.-]{1,64}", name):
            raise PgNodeError(f"node name {name!r}: letters, digits, '.', '_' and '-' only")
        self.node_dir = self.config.root / ("nodes" if name else "") / (name or "node")
        self.data_dir = self.node_dir / "data"
        self.socket_dir = self.node_dir / "socket"
        self.log_file = self.node_dir / "server.log"
        self.credentials_file = self.node_dir / "credentials.json"

    # --- who runs it ----------------------------------------------------------------------------
    def _run_user(self) -> str | None:
        return self.config.run_as if os.geteuid() == 0 else None

    def _run(self, argv: list[str], *, timeout: float = 120, check: bool = True) -> subprocess.CompletedProcess[str]:
        user = self._run_user()
        env = {k: v for k, v in os.environ.items() if not k.startswith(("VOC_", "PG"))}
        env["LC_ALL"] = "C.UTF-8"
        try:
            proc = subprocess.run(argv, capture_output=True, text=True, env=env, timeout=timeout, check=False,
                                  user=user, group=pwd.getpwnam(user).pw_gid if user else None,
                                  cwd=self.node_dir, stdin=subprocess.DEVNULL)
        except subprocess.TimeoutExpired:
            raise PgNodeError(f"{Path(argv[0]).name} did not finish within {timeout:.0f}s; "
                              f"see {self.log_file}") from None
        if check and proc.returncode != 0:
            raise PgNodeError(f"{Path(argv[0]).name} failed (exit {proc.returncode}): "
                              f"{(proc.stdout + proc.stderr).strip()[-1500:]}")
        return proc

    def _chown(self, *paths: Path) -> None:
        user = self._run_user()
        if user:
            entry = pwd.getpwnam(user)
            for path in paths:
                os.chown(path, entry.pw_uid, entry.pw_gid)

    # --- credentials ----------------------------------------------------------------------------
    def saved_password(self) -> str | None:
        try:
            return str(json.loads(self.credentials_file.read_text())["password"])
        except (OSError, ValueError, KeyError):
            return None

    def _save_password(self, password: str) -> None:
        fd = os.open(self.credentials_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            json.dump({"user": SUPERUSER, "password": password}, handle)

    def url(self, *, with_password: bool = True, database: str = DATABASE) -> str:
        password = self.saved_password() if with_password else "***"
        auth = f"{SUPERUSER}:{password}@" if password else f"{SUPERUSER}@"
        return f"postgresql+psycopg://{auth}127.0.0.1:{self.config.port}/{database}"

    # --- lifecycle --------------------------------------------------------------------------------
    def initialised(self) -> bool:
        return (self.data_dir / "PG_VERSION").is_file() and self.saved_password() is not None

    def _initdb(self, bin_dir: Path) -> None:
        if self.data_dir.exists():  # an interrupted initdb: start again rather than half-use it
            shutil.rmtree(self.data_dir)
        self.node_dir.mkdir(parents=True, exist_ok=True, mode=0o755)
        self.socket_dir.mkdir(exist_ok=True, mode=0o700)
        self._chown(self.node_dir, self.socket_dir)
        password = secrets.token_urlsafe(24)
        pwfile = self.node_dir / ".pwfile"
        fd = os.open(pwfile, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(password + "\n")
        self._chown(pwfile)
        try:
            self._run([str(bin_dir / "initdb"), "-D", str(self.data_dir), "-U", SUPERUSER, "-E", "UTF8",
                       "--locale=C.UTF-8", "--auth-local=scram-sha-256", "--auth-host=scram-sha-256",
                       f"--pwfile={pwfile}"], timeout=300)
        finally:
            pwfile.unlink(missing_ok=True)
        self._save_password(password)

    def running(self) -> bool:
        if not (self.data_dir / "PG_VERSION").is_file():
            return False
        bin_dir = find_bin_dir(self.config.bin_dir)
        return self._run([str(bin_dir / "pg_ctl"), "-D", str(self.data_dir), "status"], check=False).returncode == 0

    def start(self, timeout: float = 120) -> PgStatus:
        """Create the cluster once, start it on 127.0.0.1 (no-op when running) and make the database."""
        bin_dir = find_bin_dir(self.config.bin_dir)
        if not self.initialised():
            self._initdb(bin_dir)
        if not self.running():
            options = (f"-p {self.config.port} -c listen_addresses=127.0.0.1 "
                       f"-c unix_socket_directories={self.socket_dir}")
            self.log_file.touch()
            self._chown(self.log_file)
            self._run([str(bin_dir / "pg_ctl"), "-D", str(self.data_dir), "-l", str(self.log_file), "-w",
                       "-t", str(int(timeout)), "-o", options, "start"], timeout=timeout + 10)
        self.create_database(DATABASE)
        return self.status()

    def stop(self, timeout: float = 60) -> bool:
        """Stop the server (fast shutdown: open sessions are rolled back); False if it was not running."""
        if not self.running():
            return False
        bin_dir = find_bin_dir(self.config.bin_dir)
        self._run([str(bin_dir / "pg_ctl"), "-D", str(self.data_dir), "-m", "fast", "-w", "-t", str(int(timeout)),
                   "stop"], timeout=timeout + 10)
        return True

    def status(self) -> PgStatus:
        return PgStatus(running=self.running(), url=self.url(with_password=False))

    # --- databases --------------------------------------------------------------------------------
    def _admin(self) -> Any:
        import psycopg

        return psycopg.connect(host="127.0.0.1", port=self.config.port, user=SUPERUSER,
                               password=self.saved_password(), dbname="postgres", autocommit=True)

    def create_database(self, name: str) -> None:
        _check_name(name)
        with self._admin() as conn:
            if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone() is None:
                conn.execute(f'CREATE DATABASE "{name}"')

    def drop_database(self, name: str) -> None:
        _check_name(name)
        with self._admin() as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _check_name(name: str) -> None:
    # database names go into SQL as identifiers: allow only what needs no quoting rules
    if not re.fullmatch(r"[a-z_][a-z0-9_]{0,62}", name):
        raise PgNodeError(f"database name {name!r}: lower-case letters, digits and '_' only")
