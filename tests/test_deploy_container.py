"""The container image and compose: deploy/Dockerfile and deploy/compose.yaml.

No Docker engine runs here, so ``docker compose config`` cannot: compose.yaml is validated
against the compose-spec JSON schema (check-jsonschema's vendored copy) and its references are
checked the way compose resolves them (deploy/.env interpolation, services, volumes, networks,
health conditions).  The Dockerfile is linted with hadolint.  An image built here with podman
(see deploy/README.md, "Building without Docker") is smoke-tested when ``ASSAY_TEST_IMAGE``
names it.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy"
DOCKERFILE = DEPLOY / "Dockerfile"
COMPOSE = DEPLOY / "compose.yaml"
# Read at import: the autouse fixture of conftest.py clears ASSAY_* before each test.
IMAGE = os.environ.get("ASSAY_TEST_IMAGE")
VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::?-([^}]*))?\}")


def tool(name: str) -> str:
    here = Path(sys.executable).parent / name
    found = str(here) if here.exists() else shutil.which(name)
    if not found:
        pytest.skip(f"{name} is not installed (pip install -e '.[dev]')")
    return found


def dotenv() -> dict[str, str]:
    values = {}
    for line in (DEPLOY / ".env").read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            key, _, value = line.partition("=")
            values[key.strip()] = value.strip()
    return values


def interpolated(env: dict[str, str]) -> dict[str, Any]:
    """compose.yaml with ${VAR:-default} filled in from ``env`` (compose's own rule)."""

    def one(m: re.Match[str]) -> str:
        return env.get(m.group(1)) or (m.group(2) or "")

    return dict(yaml.safe_load(VAR.sub(one, COMPOSE.read_text())))


# -- Dockerfile ---------------------------------------------------------------------------------


def test_hadolint() -> None:
    config = DEPLOY / ".hadolint.yaml"
    done = subprocess.run([tool("hadolint"), "--config", str(config), str(DOCKERFILE)],
                          capture_output=True, text=True)  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr


def stages() -> dict[str, list[str]]:
    """Stage name -> its instructions (continuation lines joined)."""
    text = re.sub(r"\\\n", " ", DOCKERFILE.read_text())
    out: dict[str, list[str]] = {}
    current = "(global)"
    for line in text.splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        if m := re.match(r"FROM\s+(\S+)(?:\s+AS\s+(\S+))?", line, re.IGNORECASE):
            current = m.group(2) or m.group(1)
            out[current] = [line]
        else:
            out.setdefault(current, []).append(line)
    return out


def test_images_are_non_root_pinned_and_health_checked() -> None:
    found = stages()
    assert list(found)[-1] == "assay"  # the default target
    assert "assay-local" in found
    pinned = next(line for line in found["(global)"] if line.startswith("ARG PYTHON_IMAGE="))
    assert re.search(r"@sha256:[0-9a-f]{64}$", pinned), pinned
    for target in ("assay", "assay-local"):
        assert found[target][-1] == "USER 10001:10001", target
    runtime = "\n".join(found["runtime"])
    assert "HEALTHCHECK" in runtime and "/healthz" in runtime
    assert 'ENTRYPOINT ["tini", "--", "assay"]' in runtime
    build = "\n".join(found["build"])
    # The grammars and the embedding model are checked inside the image, offline.
    assert "HF_HUB_OFFLINE=1" in build and "tree_sitter_go" in build and "384" in build
    assert "assay model install" in "\n".join(found["build-local"])


# -- compose ------------------------------------------------------------------------------------


def test_compose_matches_the_compose_spec() -> None:
    done = subprocess.run(
        [tool("check-jsonschema"), "--builtin-schema", "vendor.compose-spec", str(COMPOSE)],
        capture_output=True, text=True,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    lint = subprocess.run([tool("yamllint"), "-c", str(DEPLOY / ".yamllint.yaml"), str(COMPOSE)],
                          capture_output=True, text=True)  # fmt: skip
    assert lint.returncode == 0, lint.stdout


def test_compose_references_resolve() -> None:
    env = dotenv()
    compose = interpolated(env)
    services = compose["services"]
    assert {"api", "worker", "qdrant", "redis", "model", "vllm"} <= set(services)
    for name, service in services.items():
        for dep, how in (service.get("depends_on") or {}).items():
            assert dep in services, (name, dep)
            assert "healthcheck" in services[dep], f"{name} waits for {dep}'s health"
            assert how["condition"] == "service_healthy"
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            if not source.startswith((".", "/")):
                assert source in compose["volumes"], (name, source)
        for net in service.get("networks", []):
            assert net in compose["networks"], (name, net)
        for env_file in service.get("env_file", []):
            example = DEPLOY / (Path(env_file["path"]).name + ".example")
            assert example.is_file(), f"{env_file['path']} has no example to copy"
    # The default: the embedded model, which api and worker find where it listens.
    assert env["COMPOSE_PROFILES"] == "embedded" and services["model"]["profiles"] == ["embedded"]
    assert services["vllm"]["profiles"] == ["vllm"]
    url = services["api"]["environment"]["ASSAY_LLM_BASE_URL"]
    assert url == "http://model:8111/v1" and "--port=8111" in services["model"]["command"]
    assert services["worker"]["environment"]["ASSAY_REDIS_URL"] == "redis://redis:6379/0"
    assert "/readyz" in " ".join(services["qdrant"]["healthcheck"]["test"])
    assert services["api"]["command"][0] == "serve" and services["worker"]["command"][0] == "worker"
    # The shell's environment wins over deploy/.env: an external endpoint, no model service.
    external = interpolated({**env, "ASSAY_LLM_BASE_URL": "https://llm.example.com/v1"})
    assert external["services"]["api"]["environment"]["ASSAY_LLM_BASE_URL"].startswith("https")


def test_secrets_stay_out_of_git() -> None:
    ignored = (DEPLOY / ".gitignore").read_text().split()
    assert "secrets.env" in ignored and "assay.env" in ignored
    for line in (DEPLOY / "secrets.env.example").read_text().splitlines():
        if line and not line.startswith("#"):
            assert line.endswith("="), f"the example must not hold a value: {line}"


# -- the image, when one was built here ---------------------------------------------------------


@pytest.fixture
def image() -> str:
    name = IMAGE
    if not name:
        pytest.skip("set ASSAY_TEST_IMAGE to an image built from deploy/Dockerfile to run it")
    if not shutil.which("podman"):
        pytest.skip("podman is not installed (apt-get install podman)")
    return name


PODMAN = ["podman", "--runtime", os.environ.get("ASSAY_TEST_OCI_RUNTIME", "runc")]
LIMITS = ["--ulimit", "nofile=4096:4096", "--ulimit", "nproc=4096:4096"]


def test_image_runs_as_non_root_and_answers_its_healthcheck(image: str) -> None:
    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([*PODMAN, "run", "--rm", *LIMITS, "--network", "none", *args],
                              capture_output=True, text=True, timeout=300)  # fmt: skip

    assert run("--entrypoint", "id", image, "-u").stdout.strip() == "10001"
    doctor = run(image, "doctor")
    assert "ASSAY_HOME" in doctor.stdout and "/data" in doctor.stdout, doctor.stdout
    name = f"assay-test-{os.getpid()}"
    started = subprocess.run(
        [*PODMAN, "run", "-d", "--name", name, *LIMITS, "-p", "127.0.0.1:18799:8700", image],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert started.returncode == 0, started.stderr
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                with urllib.request.urlopen("http://127.0.0.1:18799/healthz", timeout=3) as r:
                    assert b'"ok"' in r.read()
                    break
            except OSError:
                assert time.monotonic() < deadline, "the service did not answer /healthz"
                time.sleep(1)
        check = subprocess.run([*PODMAN, "healthcheck", "run", name], capture_output=True,
                               text=True, timeout=60)  # fmt: skip
        assert check.returncode == 0, check.stdout + check.stderr
    finally:
        subprocess.run([*PODMAN, "rm", "-f", name], capture_output=True, timeout=60)
