"""A local single-node Elasticsearch for development and CI, fetched from Maven Central.

Build machines cannot download the full distribution, so the node comes from Maven Central as
``org.elasticsearch.distribution.integ-test-zip:elasticsearch:<version>:zip``: a real but
stripped-down Elasticsearch with no bundled JDK (the machine's Java 17 runs it), x-pack security
included, and no analysis-common or painless modules. Layout under the cache directory::

    dist/elasticsearch-<version>/   unpacked distribution, shared and never modified
    node/config/                    elasticsearch.yml, keystore (bootstrap password), log4j, jvm.options
    node/data/, node/logs/          path.data and path.logs
    node/es.pid                     written by Elasticsearch itself (-d -p)
    node/credentials.json           the `elastic` user's password, readable by the invoking user only
    nodes/<name>/                   the same for a named node (VOC_ES_NODE_NAME): scripts/test.sh names
                                    one per checkout, on a free port, so two test runs on one machine
                                    never share (or stop) each other's node

Usage: ``python -m voc.es_node start|stop|status`` or ``voc es start|stop|status``.
"""

from __future__ import annotations

import json
import os
import pwd
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from voc.settings import VocSettings

DEFAULT_VERSION = "8.19.21"  # newest 8.x on Maven Central when this was written; "latest" resolves again
GROUP_ID = "org.elasticsearch.distribution.integ-test-zip"
ARTIFACT_ID = "elasticsearch"
USERNAME = "elastic"


class NodeError(RuntimeError):
    """The node could not be fetched, started or stopped; the message says why."""


def default_cache_dir(environ: Mapping[str, str] | None = None) -> Path:
    env = os.environ if environ is None else environ
    explicit = env.get("VOC_ES_CACHE_DIR")
    if explicit:
        return Path(explicit)
    if os.geteuid() == 0:
        # Elasticsearch refuses to run as root, so the node runs as an unprivileged user that cannot
        # enter root's home: keep the node somewhere every user can traverse.
        return Path("/var/tmp/voc-elasticsearch")
    return Path(env.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "voc" / "elasticsearch"


@dataclass(slots=True)
class NodeConfig:
    version: str = DEFAULT_VERSION
    cache_dir: Path = Path()
    port: int = 9200
    heap: str = "512m"
    run_as: str = "nobody"  # only used when started by root
    password: str | None = None  # bootstrap password; kept from the last start, else generated
    node_name: str | None = None  # a node of its own under nodes/<name> (None: the shared node/)

    @classmethod
    def from_settings(cls, settings: VocSettings) -> NodeConfig:
        return cls(
            version=settings.es_version, cache_dir=settings.es_cache_dir or default_cache_dir(),
            port=settings.es_port, heap=settings.es_heap, run_as=settings.es_run_as,
            password=settings.es_password.get_secret_value() if settings.es_password else None,
            node_name=settings.es_node_name,
        )

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> NodeConfig:
        """From the settings object, or from an explicit mapping of VOC_ES_* variables (tests)."""
        if environ is None:
            return cls.from_settings(VocSettings())
        env = environ
        return cls(
            version=env.get("VOC_ES_VERSION") or DEFAULT_VERSION, cache_dir=default_cache_dir(env),
            port=int(env.get("VOC_ES_PORT") or 9200), heap=env.get("VOC_ES_HEAP") or "512m",
            run_as=env.get("VOC_ES_RUN_AS") or "nobody", password=env.get("VOC_ES_PASSWORD") or None,
            node_name=env.get("VOC_ES_NODE_NAME") or None,
        )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


@dataclass(slots=True)
class NodeStatus:
    running: bool
    url: str
    version: str | None
    pid: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"running": self.running, "url": self.url, "version": self.version}


def _transport_ports(http_port: int) -> str:
    """A range, not one port: Elasticsearch binds the first free one, so a second node on the machine
    (another checkout's test run) never fails on a taken transport port."""
    first = http_port + 100 if http_port + 199 <= 65535 else 9300
    return f"{first}-{first + 99}"


def java_home() -> Path:
    """The JDK Elasticsearch should use: ES_JAVA_HOME, JAVA_HOME, else the `java` on PATH."""
    for name in ("ES_JAVA_HOME", "JAVA_HOME"):
        if os.environ.get(name):
            return Path(os.environ[name])
    java = shutil.which("java")
    if not java:
        raise NodeError("no Java found: install Java 17 (Elasticsearch 8 needs it) or set ES_JAVA_HOME")
    return Path(java).resolve().parent.parent


def resolve_latest_version() -> str:
    """The newest 8.x on Maven Central, asked through Maven itself with a version range."""
    pom = f"""<project xmlns="http://maven.apache.org/POM/4.0.0"><modelVersion>4.0.0</modelVersion>
<groupId>voc</groupId><artifactId>es-resolve</artifactId><version>1</version><packaging>pom</packaging>
<dependencies><dependency><groupId>{GROUP_ID}</groupId><artifactId>{ARTIFACT_ID}</artifactId>
<version>[8.0.0,8.999999)</version><type>zip</type></dependency></dependencies></project>"""
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "pom.xml").write_text(pom)
        out = Path(tmp) / "resolved.txt"
        _mvn(["dependency:resolve", "-DexcludeTransitive=true", f"-DoutputFile={out}"], cwd=Path(tmp))
        for line in out.read_text().splitlines():
            if f"{GROUP_ID}:{ARTIFACT_ID}:zip:" in line:
                return line.strip().split(":")[3]
    raise NodeError("Maven did not resolve an Elasticsearch 8.x version")


def _mvn(args: list[str], cwd: Path) -> None:
    mvn = shutil.which("mvn")
    if not mvn:
        raise NodeError("Maven (mvn) is needed to fetch Elasticsearch from Maven Central; install it")
    proc = subprocess.run([mvn, "-B", "-q", *args], cwd=cwd, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise NodeError(f"mvn {args[0]} failed:\n{(proc.stdout + proc.stderr)[-2000:]}")


class EsNode:
    def __init__(self, config: NodeConfig | None = None) -> None:
        self.config = config or NodeConfig.from_env()
        if self.config.version == "latest":
            self.config.version = resolve_latest_version()
        root = self.config.cache_dir
        self.dist_dir = root / "dist" / f"elasticsearch-{self.config.version}"
        self.node_dir = root / "nodes" / self.config.node_name if self.config.node_name else root / "node"
        self.conf_dir = self.node_dir / "config"
        self.pid_file = self.node_dir / "es.pid"
        self.credentials_file = self.node_dir / "credentials.json"

    # --- fetch ----------------------------------------------------------------------------------
    def ensure_distribution(self) -> Path:
        """Download (Maven, once) and unpack the distribution; returns its home directory."""
        if (self.dist_dir / "bin" / "elasticsearch").is_file():
            return self.dist_dir
        downloads = self.config.cache_dir / "downloads"
        downloads.mkdir(parents=True, exist_ok=True)
        artifact = f"{GROUP_ID}:{ARTIFACT_ID}:{self.config.version}:zip"
        _mvn(["dependency:copy", f"-Dartifact={artifact}", f"-DoutputDirectory={downloads}"], cwd=downloads)
        archive = downloads / f"{ARTIFACT_ID}-{self.config.version}.zip"
        staging = Path(tempfile.mkdtemp(prefix="unpack-", dir=self.dist_dir.parent.parent))
        try:
            with zipfile.ZipFile(archive) as zf:
                for info in zf.infolist():
                    target = Path(zf.extract(info, staging))
                    mode = info.external_attr >> 16  # zipfile drops permissions; bin/ needs +x
                    if mode and not info.is_dir():
                        target.chmod(mode & 0o755)
            self.dist_dir.parent.mkdir(parents=True, exist_ok=True)
            # A rename makes the unpacked tree appear whole or not at all, so an interrupted
            # download never leaves a half distribution that looks usable.
            (staging / f"elasticsearch-{self.config.version}").rename(self.dist_dir)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        archive.unlink(missing_ok=True)  # Maven's local repository keeps a copy
        return self.dist_dir

    # --- configure ------------------------------------------------------------------------------
    def _password(self) -> str:
        if self.config.password:
            return self.config.password
        saved = self.saved_credentials()
        return saved[1] if saved else secrets.token_urlsafe(18)

    def saved_credentials(self) -> tuple[str, str] | None:
        try:
            data = json.loads(self.credentials_file.read_text())
        except (OSError, ValueError):
            return None
        return data["username"], data["password"]

    def _configure(self, home: Path) -> None:
        for sub in ("data", "logs", "config"):
            (self.node_dir / sub).mkdir(parents=True, exist_ok=True)
        for name in ("jvm.options", "log4j2.properties", "roles.yml", "users", "users_roles",
                     "role_mapping.yml"):
            if not (self.conf_dir / name).exists():
                shutil.copy2(home / "config" / name, self.conf_dir / name)
        (self.conf_dir / "jvm.options.d").mkdir(exist_ok=True)
        settings = {
            "cluster.name": "voc-dev",
            "node.name": "voc-node",
            "network.host": "127.0.0.1",
            "http.port": self.config.port,
            "transport.port": _transport_ports(self.config.port),
            "discovery.type": "single-node",
            "path.data": str(self.node_dir / "data"),
            "path.logs": str(self.node_dir / "logs"),
            # Security on, with basic auth for the built-in `elastic` user. TLS is off because the
            # node only listens on loopback; a real cluster brings its own certificates (VOC_ES_CA_CERT).
            "xpack.security.enabled": True,
            "xpack.security.http.ssl.enabled": False,
            "xpack.security.transport.ssl.enabled": False,
            "xpack.security.enrollment.enabled": False,
            "xpack.ml.enabled": False,
            # A nearly full developer disk must not flip indices to read-only mid-test.
            "cluster.routing.allocation.disk.threshold_enabled": False,
        }
        lines = [f"{key}: {json.dumps(value)}" for key, value in settings.items()]
        (self.conf_dir / "elasticsearch.yml").write_text("\n".join(lines) + "\n")
        password = self._password()
        if self.saved_credentials() != (USERNAME, password) or not (self.conf_dir / "elasticsearch.keystore").exists():
            self._run_tool(home, ["elasticsearch-keystore", "add", "-x", "-f", "-s", "bootstrap.password"],
                           stdin=password)
            fd = os.open(self.credentials_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w") as fh:
                json.dump({"username": USERNAME, "password": password}, fh)
        self._chown_for_node()

    def _run_user(self) -> str | None:
        return self.config.run_as if os.geteuid() == 0 else None

    def _chown_for_node(self) -> None:
        user = self._run_user()
        if not user:
            return
        entry = pwd.getpwnam(user)
        for path in [self.node_dir, *self.node_dir.rglob("*")]:
            if path != self.credentials_file:
                os.chown(path, entry.pw_uid, entry.pw_gid)

    def _env(self, home: Path) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("VOC_", "ES_"))}
        env.update(ES_JAVA_HOME=str(java_home()), ES_PATH_CONF=str(self.conf_dir), ES_HOME=str(home),
                   ES_JAVA_OPTS=f"-Xms{self.config.heap} -Xmx{self.config.heap}")
        return env

    def _run_tool(self, home: Path, argv: list[str], stdin: str | None = None) -> None:
        proc = subprocess.run([str(home / "bin" / argv[0]), *argv[1:]], input=stdin, text=True,
                              capture_output=True, env=self._env(home), check=False)
        if proc.returncode != 0:
            raise NodeError(f"{argv[0]} failed: {(proc.stdout + proc.stderr)[-1500:]}")

    # --- run ------------------------------------------------------------------------------------
    def pid(self) -> int | None:
        try:
            pid = int(self.pid_file.read_text().strip())
        except (OSError, ValueError):
            return None
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return None
        except PermissionError:
            pass  # alive, owned by the unprivileged node user
        try:  # a zombie (exited, not yet reaped, as in containers without an init) is not running
            if Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z":
                return None
        except (OSError, IndexError):
            pass
        return pid

    def start(self, timeout: float = 240) -> NodeStatus:
        """Start the node detached (no-op when already running) and wait until the cluster is green."""
        if self.pid():
            self.wait_green(timeout)
            return self.status()
        home = self.ensure_distribution()
        self._configure(home)
        self.pid_file.unlink(missing_ok=True)
        user = self._run_user()
        log = self.node_dir / "logs" / "startup.log"
        with open(log, "wb") as out:
            try:
                # -d returns once the node has started (or failed to); the pid file is written by it.
                proc = subprocess.run(
                    [str(home / "bin" / "elasticsearch"), "-d", "-p", str(self.pid_file)],
                    stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=self._env(home),
                    cwd=self.node_dir, user=user, group=pwd.getpwnam(user).pw_gid if user else None,
                    timeout=timeout, check=False,
                )
            except subprocess.TimeoutExpired:
                self.stop()
                raise NodeError(f"Elasticsearch did not start within {timeout:.0f}s; see {log}") from None
        if proc.returncode != 0:
            tail = log.read_text(errors="replace")[-3000:]
            raise NodeError(f"Elasticsearch did not start (exit {proc.returncode}); see {log}:\n{tail}")
        self.wait_green(timeout)
        return self.status()

    def stop(self, timeout: float = 60) -> bool:
        """Stop the node cleanly (SIGTERM, then SIGKILL after ``timeout``); False if it was not running."""
        pid = self.pid()
        if not pid:
            return False
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and self.pid():
            time.sleep(0.2)
        if self.pid():
            os.kill(pid, signal.SIGKILL)
            time.sleep(0.5)
        self.pid_file.unlink(missing_ok=True)
        return True

    def _request(self, path: str, timeout: float = 5) -> dict[str, Any] | None:
        import base64
        import urllib.error
        import urllib.request

        creds = self.saved_credentials()
        headers = {}
        if creds:
            headers["Authorization"] = "Basic " + base64.b64encode(":".join(creds).encode()).decode()
        try:
            with urllib.request.urlopen(urllib.request.Request(self.config.url + path, headers=headers),
                                        timeout=timeout) as resp:
                return json.loads(resp.read())
        except (OSError, ValueError, urllib.error.URLError):
            return None

    def wait_green(self, timeout: float = 240) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            health = self._request("/_cluster/health?wait_for_status=green&timeout=2s", timeout=5)
            if health and health.get("status") == "green":
                return
            if not self.pid():
                raise NodeError(f"Elasticsearch exited; see {self.node_dir / 'logs'}")
            time.sleep(0.5)
        raise NodeError(f"Elasticsearch at {self.config.url} was not green within {timeout:.0f}s")

    def status(self) -> NodeStatus:
        pid = self.pid()
        # GET / lives in the rest-root module, which this distribution lacks; ask the node itself.
        info = self._request("/_nodes/_local?filter_path=nodes.*.version") if pid else None
        versions = [node["version"] for node in (info or {}).get("nodes", {}).values()]
        return NodeStatus(running=bool(versions), url=self.config.url, version=versions[0] if versions else None,
                          pid=pid)


def local_credentials(url: str | None, environ: Mapping[str, str] | None = None) -> tuple[str, str] | None:
    """The managed node's `elastic` credentials when ``url`` points at it (none for other clusters)."""
    config = NodeConfig.from_env(environ)
    if url and url.rstrip("/") != config.url:
        return None
    config.version = DEFAULT_VERSION  # the credentials do not depend on it; avoid resolving "latest"
    return EsNode(config).saved_credentials()


def main(argv: list[str] | None = None) -> int:
    args = argv if argv is not None else sys.argv[1:]
    command = args[0] if args else "status"
    node = EsNode()
    try:
        if command == "start":
            started = time.monotonic()
            status = node.start()
            print(f"Elasticsearch {status.version} green at {status.url} in {time.monotonic() - started:.1f}s")
        elif command == "stop":
            print("stopped" if node.stop() else "not running")
        elif command == "status":
            print(json.dumps(node.status().to_dict()))
        else:
            print(f"unknown command {command!r}; use start, stop or status", file=sys.stderr)
            return 2
    except NodeError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
