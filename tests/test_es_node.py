"""The node manager without Maven or Java: a fake `mvn` hands over a fake distribution zip.

What is checked: the Maven coordinates asked for, unpacking with executable bits, the explicit
elasticsearch.yml, the bootstrap password going through stdin (never argv) into a private
credentials file, status when nothing runs, and a clean stop of the recorded process.
"""

from __future__ import annotations

import contextlib
import os
import signal
import stat
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest

from voc.es_node import EsNode, NodeConfig, local_credentials

VERSION = "8.99.0"


def fake_distribution(tmp_path: Path) -> Path:
    """A zip shaped like the integ-test one, whose keystore tool records how it was called."""
    archive = tmp_path / f"elasticsearch-{VERSION}.zip"
    top = f"elasticsearch-{VERSION}"
    keystore = "#!/bin/sh\necho \"$@\" > \"$ES_PATH_CONF/keystore.args\"\ncat > \"$ES_PATH_CONF/keystore.stdin\"\n"
    with zipfile.ZipFile(archive, "w") as zf:
        for name, body, mode in [
            ("bin/elasticsearch", "#!/bin/sh\nexit 1\n", 0o755),
            ("bin/elasticsearch-keystore", keystore, 0o755),
            *((f"config/{n}", "# default\n", 0o644) for n in (
                "jvm.options", "log4j2.properties", "roles.yml", "users", "users_roles", "role_mapping.yml")),
        ]:
            info = zipfile.ZipInfo(f"{top}/{name}")
            info.external_attr = (stat.S_IFREG | mode) << 16
            zf.writestr(info, body)
    return archive


@pytest.fixture
def node(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> EsNode:
    archive = fake_distribution(tmp_path)
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    mvn = bin_dir / "mvn"
    # Records its arguments and copies the archive where dependency:copy would put it.
    mvn.write_text(f"""#!{sys.executable}
import shutil, sys
open({str(tmp_path / 'mvn.args')!r}, 'w').write(' '.join(sys.argv[1:]))
out = [a.split('=', 1)[1] for a in sys.argv if a.startswith('-DoutputDirectory=')][0]
shutil.copy({str(archive)!r}, out)
""")
    mvn.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("ES_JAVA_HOME", str(tmp_path / "jdk"))
    return EsNode(NodeConfig(version=VERSION, cache_dir=tmp_path / "cache", port=19200, password="Pw-123456",
                             run_as=os.environ.get("USER") or "root"))


def test_distribution_comes_from_maven_central_coordinates(node: EsNode, tmp_path: Path) -> None:
    home = node.ensure_distribution()
    args = (tmp_path / "mvn.args").read_text()
    assert "dependency:copy" in args
    assert f"-Dartifact=org.elasticsearch.distribution.integ-test-zip:elasticsearch:{VERSION}:zip" in args
    assert home == tmp_path / "cache" / "dist" / f"elasticsearch-{VERSION}"
    assert os.access(home / "bin" / "elasticsearch", os.X_OK)  # permissions survive unzipping
    assert not list((tmp_path / "cache").glob("unpack-*")) and not list((tmp_path / "cache" / "downloads").iterdir())
    (tmp_path / "mvn.args").unlink()
    assert node.ensure_distribution() == home and not (tmp_path / "mvn.args").exists()  # fetched once


def test_configuration_is_explicit_and_the_password_stays_private(node: EsNode) -> None:
    node._configure(node.ensure_distribution())
    yml = (node.conf_dir / "elasticsearch.yml").read_text()
    for line in ('network.host: "127.0.0.1"', 'discovery.type: "single-node"', "http.port: 19200",
                 "xpack.security.enabled: true", "xpack.security.http.ssl.enabled: false",
                 "xpack.ml.enabled: false", f'path.data: "{node.node_dir / "data"}"'):
        assert line in yml
    assert "Pw-123456" not in yml
    assert (node.conf_dir / "keystore.args").read_text().split() == ["add", "-x", "-f", "-s", "bootstrap.password"]
    assert (node.conf_dir / "keystore.stdin").read_text() == "Pw-123456"  # via stdin, never argv
    assert stat.S_IMODE(node.credentials_file.stat().st_mode) == 0o600
    assert node.saved_credentials() == ("elastic", "Pw-123456")
    env = node._env(node.dist_dir)
    assert env["ES_JAVA_OPTS"] == "-Xms512m -Xmx512m" and env["ES_PATH_CONF"] == str(node.conf_dir)
    assert not any(key.startswith("VOC_") for key in env)


def test_generated_password_is_kept_between_starts(node: EsNode) -> None:
    node.config.password = None
    home = node.ensure_distribution()
    node._configure(home)
    first = node.saved_credentials()
    assert first and len(first[1]) >= 20
    node._configure(home)
    assert node.saved_credentials() == first
    env = {"VOC_ES_CACHE_DIR": str(node.config.cache_dir), "VOC_ES_PORT": "19200"}
    assert local_credentials("http://127.0.0.1:19200/", env) == first
    assert local_credentials("https://elsewhere.example:9200", env) is None  # never sent to other clusters


def test_status_and_stop(node: EsNode) -> None:
    assert node.status().to_dict() == {"running": False, "url": "http://127.0.0.1:19200", "version": None}
    assert node.stop() is False
    node.node_dir.mkdir(parents=True)
    # Detached like `elasticsearch -d` (not our child), so it is gone, not a zombie, once stopped.
    pid = int(subprocess.run(["sh", "-c", f"'{sys.executable}' -c 'import time; time.sleep(60)' "
                              ">/dev/null 2>&1 & echo $!"], capture_output=True, text=True, check=True).stdout)
    try:
        node.pid_file.write_text(str(pid))
        assert node.pid() == pid
        assert node.status().running is False  # a process, but no node answering
        started = time.monotonic()
        assert node.stop(timeout=10) is True
        assert time.monotonic() - started < 5  # SIGTERM was enough
        assert node.pid() is None and not node.pid_file.exists()
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


def test_a_named_node_has_its_own_directory_and_a_transport_port_range(node: EsNode) -> None:
    """scripts/test.sh names a node per checkout on a free port: two runs on one machine never share
    a node's directory, pid file or transport port, and neither stops the other's node."""
    home = node.ensure_distribution()
    shared = EsNode(NodeConfig(version=VERSION, cache_dir=node.config.cache_dir, port=9200, password="Pw-1",
                               run_as=node.config.run_as))
    mine = EsNode(NodeConfig(version=VERSION, cache_dir=node.config.cache_dir, port=41234, password="Pw-2",
                             run_as=node.config.run_as, node_name="checkout-abc"))
    assert mine.node_dir == node.config.cache_dir / "nodes" / "checkout-abc" != shared.node_dir
    assert mine.dist_dir == shared.dist_dir == home  # the distribution is fetched once per machine
    mine._configure(home)
    assert 'transport.port: "41334-41433"' in (mine.conf_dir / "elasticsearch.yml").read_text()
    env = {"VOC_ES_CACHE_DIR": str(node.config.cache_dir), "VOC_ES_PORT": "41234", "VOC_ES_NODE_NAME": "checkout-abc"}
    assert local_credentials("http://127.0.0.1:41234", env) == ("elastic", "Pw-2")
    assert shared.saved_credentials() is None and shared.pid() is None
