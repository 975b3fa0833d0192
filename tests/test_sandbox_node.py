"""``node`` in the sandbox is confined as ``python`` is: no network, an environment from an
allow-list, every process killed at the timeout, the package's ``node_modules`` shared
read-only, and an install command that fills the sandbox's copy, never the user's tree."""

from __future__ import annotations

import os
import socket
import subprocess
from pathlib import Path

import pytest

from flows import Isolation, Sandbox
from tests.kit.cli import tree_digest
from tests.kit.js import need_node

PROBE = """\
const net = require("net");
console.log("secret:" + (process.env.ASSAY_NODE_SECRET || "absent"));
console.log("dep:" + require("dep"));
const socket = net.connect(Number(process.argv[2]), "127.0.0.1");
socket.on("connect", () => { console.log("network:reached"); socket.destroy(); });
socket.on("error", (e) => console.log("network:" + e.code));
"""


@pytest.fixture
def package(tmp_path: Path) -> Path:
    need_node()
    repo = tmp_path / "pkg"
    (repo / "node_modules" / "dep").mkdir(parents=True)
    (repo / "node_modules" / "dep" / "index.js").write_text("module.exports = 'shared';\n")
    (repo / "probe.js").write_text(PROBE)
    (repo / "package.json").write_text("{}\n")
    return repo


def test_node_sees_no_network_no_secrets_and_only_read_only_dependencies(package: Path) -> None:
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    port = listener.getsockname()[1]
    env = {**os.environ, "ASSAY_NODE_SECRET": "hunter2-not-for-tests"}
    digest = tree_digest(package)
    try:
        with Sandbox(package, dependencies=("node_modules",), memory_limit=None,
                     base_env=env) as sandbox:  # fmt: skip
            done = sandbox.run(["node", "probe.js", str(port)], timeout=60)
            write = sandbox.run(
                ["node", "-e", "require('fs').writeFileSync('node_modules/dep/index.js', 'x')"]
            )
    finally:
        listener.close()
    assert done.returncode == 0, done.output
    assert "secret:absent" in done.output and "dep:shared" in done.output
    assert "network:reached" not in done.output and "network:E" in done.output
    if sandbox.isolation is Isolation.BWRAP:
        assert write.returncode != 0 and "EROFS" in write.output
    assert tree_digest(package) == digest


def test_a_hanging_node_run_is_killed_with_everything_it_started(package: Path) -> None:
    script = (
        "require('child_process').spawn('sleep', ['1002'], {detached: true, stdio: 'ignore'});"
        "while (true) {}"
    )
    with Sandbox(package, dependencies=("node_modules",), memory_limit=None) as sandbox:
        done = sandbox.run(["node", "-e", script], timeout=3)
    assert done.timed_out
    leftovers = subprocess.run(["pgrep", "-f", "sleep 1002"], capture_output=True, text=True)
    assert leftovers.stdout.strip() == ""


def test_an_install_command_fills_the_sandbox_copy_not_the_users_tree(package: Path) -> None:
    install = (
        "mkdir -p node_modules/made && echo 'module.exports = 42;' > node_modules/made/index.js"
    )
    digest = tree_digest(package)
    with Sandbox(package, dependencies=("node_modules",), memory_limit=None) as sandbox:
        prepared = sandbox.prepare(["/bin/sh", "-c", install], network=False, timeout=60)
        done = sandbox.run(["node", "-e", "console.log('made:' + require('made'))"])
    assert prepared.ok, prepared.output
    assert "made:42" in done.output, done.output
    assert tree_digest(package) == digest
    assert not (package / "node_modules" / "made").exists()
