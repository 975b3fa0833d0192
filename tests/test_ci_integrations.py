"""The CI integrations, run here.

- ``action.yml`` (the GitHub Action) is run the way GitHub's runner runs a composite action: its
  ``run:`` steps in order, in bash, with the inputs of the example workflow
  (deploy/ci/github/assay-cover.yml), ``$GITHUB_OUTPUT`` between steps, in a temporary git
  repository, against the fake OpenAI server and the fake GitHub API.  The ``uses:`` steps
  (setup-python, cache, upload-artifact) are GitHub's own actions and are skipped; the test uses
  the assay of this checkout (input ``install: false``).
- The GitLab template's job script runs the same way against the fake GitLab API.
- The pre-commit hook runs through pre-commit itself (``pre-commit try-repo``).
- Every file is validated against its schema (check-jsonschema's vendored schemas) and yamllint.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.fakes.code_hosts import FakeGitHub
from tests.fakes.gitlab_api import FakeGitLab
from tests.fakes.openai_server import FakeOpenAI, Reply
from tests.kit.cover import HEAD, OPS, scripted

ROOT = Path(__file__).resolve().parent.parent
ACTION = ROOT / "action.yml"
WORKFLOW = ROOT / "deploy" / "ci" / "github" / "assay-cover.yml"
WORKFLOW_JS = ROOT / "deploy" / "ci" / "github" / "assay-cover-js.yml"
GITLAB = ROOT / "deploy" / "ci" / "gitlab" / "assay-cover.gitlab-ci.yml"
GITLAB_EXAMPLE = ROOT / "deploy" / "ci" / "gitlab" / "example.gitlab-ci.yml"
HOOKS = ROOT / ".pre-commit-hooks.yaml"
EXPR = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")
CLAMP_TEST = HEAD.format(name="clamp") + (
    "def test_clamp_bounds():\n"
    "    assert clamp(-5, 0, 10) == 0\n"
    "    assert clamp(50, 0, 10) == 10\n"
)
FAST = (
    "--attempts 1 --tests-per-target 1 --rounds 1 --repeat 1 --no-mutation --candidate-timeout 20"
)


def tool(name: str) -> str:
    """A test tool from the dev extra (next to this interpreter) or PATH; skip when absent."""
    here = Path(sys.executable).parent / name
    found = str(here) if here.exists() else shutil.which(name)
    if not found:
        pytest.skip(f"{name} is not installed (pip install -e '.[dev]')")
    return found


def git(repo: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@t", *args],
        cwd=repo, check=True, capture_output=True, text=True,
    )  # fmt: skip
    return done.stdout.strip()


class GitLabLoader(yaml.SafeLoader):
    """YAML with GitLab's ``!reference [job, key]`` tags (kept as a marker list)."""


GitLabLoader.add_constructor(
    "!reference", lambda loader, node: ["!reference", *loader.construct_sequence(node)]
)


# -- schemas and lint -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("schema", "path"),
    [
        ("vendor.github-actions", ACTION),
        ("vendor.github-workflows", WORKFLOW),
        ("vendor.github-workflows", WORKFLOW_JS),
        ("vendor.gitlab-ci", GITLAB),
        ("vendor.gitlab-ci", GITLAB_EXAMPLE),
    ],
    ids=["action", "workflow", "workflow-js", "gitlab-template", "gitlab-example"],
)
def test_validates_against_its_schema(schema: str, path: Path) -> None:
    argv = [tool("check-jsonschema"), "--builtin-schema", schema, str(path)]
    if "gitlab" in schema:
        argv[1:1] = ["--data-transform", "gitlab-ci"]
    done = subprocess.run(argv, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


def test_precommit_manifest_is_valid() -> None:
    done = subprocess.run([tool("pre-commit"), "validate-manifest", str(HOOKS)],
                          capture_output=True, text=True)  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    hook = yaml.safe_load(HOOKS.read_text())[0]
    assert os.access(ROOT / hook["entry"], os.X_OK), "the hook's script must be executable"


def test_yamllint_and_shellcheck_of_the_run_steps(tmp_path: Path) -> None:
    files = [ACTION, WORKFLOW, WORKFLOW_JS, GITLAB, GITLAB_EXAMPLE, HOOKS]
    config = ROOT / "deploy" / ".yamllint.yaml"
    done = subprocess.run([tool("yamllint"), "-c", str(config), *map(str, files)],
                          capture_output=True, text=True)  # fmt: skip
    assert done.returncode == 0, done.stdout
    # Every run step and the GitLab job script, as the shell will see them.
    scripts = {f"action-{i}": s["run"] for i, s in enumerate(steps()) if "run" in s}
    job = yaml.load(GITLAB.read_text(), Loader=GitLabLoader)[".assay-cover"]
    scripts["gitlab"] = "\n".join([*job["before_script"], *job["script"]])
    for name, text in scripts.items():
        (tmp_path / f"{name}.sh").write_text("#!/usr/bin/env bash\n" + text)
    checked = subprocess.run(
        [tool("shellcheck"), "--severity=warning", *sorted(map(str, tmp_path.glob("*.sh")))],
        capture_output=True, text=True,
    )  # fmt: skip
    assert checked.returncode == 0, checked.stdout


@pytest.mark.parametrize("workflow_file", [WORKFLOW, WORKFLOW_JS], ids=["python", "js"])
def test_the_example_workflow_passes_only_inputs_the_action_has(workflow_file: Path) -> None:
    action = yaml.safe_load(ACTION.read_text())
    workflow = yaml.safe_load(workflow_file.read_text())
    step = next(
        s for j in workflow["jobs"].values() for s in j["steps"] if "/assay@" in s.get("uses", "")
    )
    assert set(step["with"]) <= set(action["inputs"]), set(step["with"]) - set(action["inputs"])
    # Conditions live in the scripts: the run steps are exactly what the runner below runs.
    assert all("if" not in s for s in steps() if "run" in s)
    assert all(s.get("shell") == "bash" for s in steps() if "run" in s)


# -- a composite action, run here -----------------------------------------------------------------


def steps() -> list[dict[str, Any]]:
    return list(yaml.safe_load(ACTION.read_text())["runs"]["steps"])


def lookup(expr: str, ctx: dict[str, Any]) -> str:
    if not re.fullmatch(r"[A-Za-z_][\w.-]*", expr):
        raise AssertionError(f"the local runner evaluates dotted names only, not {expr!r}")
    value: Any = ctx
    for part in expr.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return "" if value is None else str(value)


def evaluate(text: str, ctx: dict[str, Any]) -> str:
    return EXPR.sub(lambda m: lookup(m.group(1), ctx), text)


def run_action(
    workspace: Path, inputs: dict[str, str], github: dict[str, Any], env: dict[str, str]
) -> dict[str, dict[str, str]]:
    """Run action.yml's run steps like GitHub's runner; return each step's outputs."""
    action = yaml.safe_load(ACTION.read_text())
    temp = workspace.parent / "runner-temp"
    temp.mkdir(exist_ok=True)
    ctx: dict[str, Any] = {"github": github, "runner": {"temp": str(temp), "os": "Linux"},
                           "steps": {}}  # fmt: skip
    ctx["inputs"] = {
        k: evaluate(str(v.get("default", "")), ctx) for k, v in action["inputs"].items()
    }
    ctx["inputs"].update(inputs)
    summary = temp / "summary.md"
    for n, step in enumerate(action["runs"]["steps"]):
        if "run" not in step:
            continue  # setup-python, cache, upload-artifact: GitHub's own actions
        output = temp / f"output-{n}"
        output.write_text("")
        script = temp / f"step-{n}.sh"
        script.write_text(step["run"])
        step_env = {**env, "GITHUB_OUTPUT": str(output), "GITHUB_STEP_SUMMARY": str(summary),
                    "RUNNER_TEMP": str(temp), "GITHUB_WORKSPACE": github["workspace"],
                    "GITHUB_ACTION_PATH": github["action_path"]}  # fmt: skip
        step_env.update({k: evaluate(str(v), ctx) for k, v in step.get("env", {}).items()})
        cwd = evaluate(step.get("working-directory", "${{ github.workspace }}"), ctx)
        done = subprocess.run(
            ["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script)],
            cwd=cwd, env=step_env, capture_output=True, text=True, timeout=600,
        )  # fmt: skip
        outputs = dict(
            line.split("=", 1) for line in output.read_text().splitlines() if "=" in line
        )
        if "id" in step:
            ctx["steps"][step["id"]] = {"outputs": outputs}
        if done.returncode != 0:
            raise StepFailed(step.get("name", str(n)), done.returncode, done.stdout + done.stderr)
    return {k: v["outputs"] for k, v in ctx["steps"].items()}


class StepFailed(AssertionError):
    def __init__(self, name: str, code: int, log: str) -> None:
        super().__init__(f"step {name!r} exited {code}:\n{log[-4000:]}")
        self.code = code


def make_pr(root: Path) -> tuple[Path, Path, str]:
    """A bare "origin", and a checkout of its branch "feature" whose last commit adds clamp."""
    origin = root / "origin.git"
    work = root / "workspace"
    (work / "calc").mkdir(parents=True)
    (work / "calc" / "__init__.py").write_text("")
    (work / "calc" / "ops.py").write_text(OPS.split("def clamp")[0])
    (work / "tests").mkdir()
    (work / "tests" / "test_ops.py").write_text(
        "from calc.ops import add\n\n\ndef test_add():\n    assert add(1, 2) == 3\n"
    )
    git(work, "init", "-q", "-b", "main")
    git(work, "add", ".")
    git(work, "commit", "-qm", "base")
    base = git(work, "rev-parse", "HEAD")
    git(work, "checkout", "-qb", "feature")
    clamp = "def clamp" + OPS.split("def clamp")[1].split("def sign")[0]
    (work / "calc" / "ops.py").write_text(OPS.split("def clamp")[0] + clamp)
    git(work, "commit", "-qam", "add clamp")
    subprocess.run(["git", "clone", "-q", "--bare", str(work), str(origin)], check=True)
    git(work, "remote", "add", "origin", str(origin))
    return work, origin, base


def base_env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ASSAY_", "GITHUB_", "CI_"))}
    env["HOME"] = str(home)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env["COLUMNS"] = "200"
    env["ASSAY_COVER_EXPLORE"] = "false"  # the scripted model's test is what these tests follow
    env["ASSAY_COVER_MUTANTS"] = "off"
    return env


def workflow_inputs(values: dict[str, str], workflow_file: Path = WORKFLOW) -> dict[str, str]:
    """The example workflow's ``with:`` with its vars and secrets filled in."""
    workflow = yaml.safe_load(workflow_file.read_text())
    step = next(
        s for j in workflow["jobs"].values() for s in j["steps"] if "/assay@" in s.get("uses", "")
    )
    ctx = {"vars": values, "secrets": values}
    return {k: evaluate(str(v), ctx) for k, v in step["with"].items()}


def test_action_comments_the_accepted_tests_and_updates_its_comment(
    tmp_path: Path, fake_llm: FakeOpenAI
) -> None:
    work, _, base = make_pr(tmp_path)
    fake_llm.on(scripted({"clamp": CLAMP_TEST}))
    inputs = workflow_inputs({"ASSAY_LLM_BASE_URL": fake_llm.url, "ASSAY_LLM_MODEL": "fake-model",
                              "ASSAY_LLM_API_KEY": "sk-test"})  # fmt: skip
    inputs.update(install="false", args=FAST)
    with FakeGitHub(token="ghs_test") as gh:
        github = {"workspace": str(work), "action_path": str(ROOT), "token": "ghs_test",
                  "event": {"pull_request": {"number": 7, "base": {"sha": base}}},
                  "head_ref": "feature", "action_ref": "v0.1.0"}  # fmt: skip
        env = {**base_env(tmp_path / "home"), "GITHUB_API_URL": gh.url,
               "GITHUB_REPOSITORY": "acme/shop"}  # fmt: skip
        outputs = run_action(work, inputs, github, env)
        cover = outputs["cover"]
        assert cover["exit-code"] == "0" and cover["accepted"] == "1", cover
        assert [c["pr"] for c in gh.issue_comments] == [("acme/shop", 7)]
        body = gh.issue_comments[0]["body"]
        assert "<!-- assay-cover -->" in body and "+def test_clamp_bounds" in body
        assert "**1** new test(s) accepted" in body
        junit = Path(cover["junit"]).read_text()
        assert 'name="test_clamp_bounds"' in junit and 'failures="0"' in junit
        report = json.loads(Path(cover["report"]).read_text())
        assert report["written"] == ["tests/test_ops_assay.py"]
        assert "git apply" in body and Path(cover["patch"]).read_text().startswith("diff --git")
        # A new push: the step posts again and the comment is edited in place, not duplicated.
        body_file = tmp_path / "runner-temp" / "assay-comment.md"
        body_file.write_text(body.replace("**1** new", "**2** new"))
        helper = [
            sys.executable,
            str(ROOT / "deploy/ci/assay_ci.py"),
            "post-github",
            str(body_file),
        ]
        posted = subprocess.run(helper, env={**env, "PR_NUMBER": "7", "GITHUB_TOKEN": "ghs_test"},
                                capture_output=True, text=True)  # fmt: skip
        assert posted.returncode == 0, posted.stderr
        assert len(gh.issue_comments) == 1 and "**2** new" in gh.issue_comments[0]["body"]
        note = gh.issue_comments[0]["id"]
        assert len(gh.calls_to("PATCH", f"/repos/acme/shop/issues/comments/{note}")) == 1
    assert fake_llm.chat_requests[0].headers.get("authorization") == "Bearer sk-test"
    assert "### assay cover" in (tmp_path / "runner-temp" / "summary.md").read_text()


def test_action_commits_the_accepted_tests_to_the_pr_branch(
    tmp_path: Path, fake_llm: FakeOpenAI
) -> None:
    work, origin, base = make_pr(tmp_path)
    fake_llm.on(scripted({"clamp": CLAMP_TEST}))
    inputs = workflow_inputs({"ASSAY_LLM_BASE_URL": fake_llm.url, "ASSAY_LLM_MODEL": "fake-model"})
    inputs.update(install="false", args=FAST, **{"on-accepted": "commit"})
    github = {"workspace": str(work), "action_path": str(ROOT), "token": "t",
              "event": {"pull_request": {"number": 7, "base": {"sha": base}}},
              "head_ref": "feature"}  # fmt: skip
    outputs = run_action(work, inputs, github, base_env(tmp_path / "home"))
    assert outputs["cover"]["accepted"] == "1"
    log = git(origin, "log", "--format=%s", "feature")
    assert log.splitlines()[0] == "test: add 1 test(s) from assay cover"
    assert "def test_clamp_bounds" in git(origin, "show", "feature:tests/test_ops_assay.py")


def test_action_fails_the_job_when_coverage_stays_below_fail_under(
    tmp_path: Path, fake_llm: FakeOpenAI
) -> None:
    work, _, base = make_pr(tmp_path)
    fake_llm.on(lambda req: "no test today")
    inputs = {"llm-base-url": fake_llm.url, "llm-model": "fake-model", "install": "false",
              "args": FAST, "fail-under": "100", "on-accepted": "artifact"}  # fmt: skip
    github = {"workspace": str(work), "action_path": str(ROOT),
              "event": {"pull_request": {"number": 7, "base": {"sha": base}}}}  # fmt: skip
    with pytest.raises(StepFailed) as failed:
        run_action(work, inputs, github, base_env(tmp_path / "home"))
    assert failed.value.code == 1 and "'Result'" in str(failed.value)


def test_action_fails_with_exit_3_when_the_model_fails_every_call(
    tmp_path: Path, fake_llm: FakeOpenAI
) -> None:
    work, _, base = make_pr(tmp_path)
    fake_llm.on(lambda req: Reply(status=500, error="the GPU fell over"))
    inputs = {"llm-base-url": fake_llm.url, "llm-model": "fake-model", "install": "false",
              "args": FAST, "on-accepted": "artifact"}  # fmt: skip
    github = {"workspace": str(work), "action_path": str(ROOT),
              "event": {"pull_request": {"number": 7, "base": {"sha": base}}}}  # fmt: skip
    env = {**base_env(tmp_path / "home"), "ASSAY_LLM_MAX_RETRIES": "0"}
    with pytest.raises(StepFailed) as failed:
        run_action(work, inputs, github, env)
    assert failed.value.code == 3 and "'Result'" in str(failed.value)
    assert "::error::assay cover: the model failed on every call" in str(failed.value)
    summary = (tmp_path / "runner-temp" / "summary.md").read_text()
    assert "**The model failed on every call** (exit 3)" in summary


CODES_BASE = "export function twice(n: number): number {\n  return n * 2;\n}\n"
CLAMP_TS = """\
/** @example clamp(5, 0, 3) */
export function clamp(value: number, low: number, high: number): number {
  if (value < low) return low;
  if (value > high) return high;
  return value;
}
"""
CODES_TEST = """\
import { expect, it } from "vitest";
import { twice } from "../src/codes";

it("doubles", () => {
  expect(twice(2)).toBe(4);
});
"""


def test_action_on_a_typescript_package_comments_tests_for_the_changed_function(
    tmp_path: Path, fake_llm: FakeOpenAI
) -> None:
    from tests.kit.js import make_package

    work = make_package(tmp_path / "workspace", "vitest",
                        {"src/codes.ts": CODES_BASE, "test/codes.test.ts": CODES_TEST},
                        esm=True)  # fmt: skip
    base = git(work, "rev-parse", "HEAD")
    git(work, "checkout", "-qb", "feature")
    (work / "src" / "codes.ts").write_text(CODES_BASE + "\n" + CLAMP_TS)
    git(work, "commit", "-qam", "add clamp")
    fake_llm.on(lambda req: "I cannot help with that.")  # exploration reaches every branch
    inputs = workflow_inputs({"ASSAY_LLM_BASE_URL": fake_llm.url, "ASSAY_LLM_MODEL": "fake-model",
                              "ASSAY_LLM_API_KEY": "sk-test"}, WORKFLOW_JS)  # fmt: skip
    inputs.update(install="false", args=FAST)
    with FakeGitHub(token="ghs_test") as gh:
        github = {"workspace": str(work), "action_path": str(ROOT), "token": "ghs_test",
                  "event": {"pull_request": {"number": 8, "base": {"sha": base}}},
                  "head_ref": "feature", "action_ref": "v0.1.0"}  # fmt: skip
        env = {**base_env(tmp_path / "home"), "GITHUB_API_URL": gh.url,
               "GITHUB_REPOSITORY": "acme/web", "ASSAY_COVER_EXPLORE": "true"}  # fmt: skip
        outputs = run_action(work, inputs, github, env)
        cover = outputs["cover"]
        assert cover["exit-code"] == "0" and int(cover["accepted"]) >= 1, cover
        [comment] = gh.issue_comments
        body = comment["body"]
        assert "+++ b/test/codes.assay.test.ts" in body and "expect(clamp(" in body
        assert "twice(" not in body.split("+++ b/test/codes.assay.test.ts")[1]  # only the change
    report = json.loads(Path(cover["report"]).read_text())
    assert report["written"] == ["test/codes.assay.test.ts"]
    junit = Path(cover["junit"]).read_text()  # assay cover's own JUnit: no pytest for JS
    assert 'name="clamp"' in junit and 'classname="src/codes.ts"' in junit
    assert 'failures="0"' in junit
    assert (work / "src" / "codes.ts").read_text() == CODES_BASE + "\n" + CLAMP_TS


# -- the GitLab template, run here ----------------------------------------------------------------


def test_gitlab_template_comments_on_the_merge_request(
    tmp_path: Path, fake_llm: FakeOpenAI
) -> None:
    work, _, base = make_pr(tmp_path)
    fake_llm.on(scripted({"clamp": CLAMP_TEST}))
    template = yaml.load(GITLAB.read_text(), Loader=GitLabLoader)
    job = template[".assay-cover"]
    script = "\n".join(["set -eo pipefail", *job["before_script"], *job["script"]])
    with FakeGitLab(token="glpat-test") as gl:
        env = {
            **base_env(tmp_path / "home"),
            **{k: str(v) for k, v in template["variables"].items()},
        }
        env.update({
            "CI_PROJECT_DIR": str(work), "CI_MERGE_REQUEST_DIFF_BASE_SHA": base,
            "CI_API_V4_URL": f"{gl.url}/api/v4", "CI_PROJECT_ID": "42",
            "CI_MERGE_REQUEST_IID": "3", "ASSAY_GITLAB_TOKEN": "glpat-test",
            "ASSAY_INSTALL": "false", "ASSAY_CI_HELPER": str(ROOT / "deploy/ci/assay_ci.py"),
            "ASSAY_LLM_BASE_URL": fake_llm.url, "ASSAY_LLM_MODEL": "fake-model", "ASSAY_ARGS": FAST,
        })  # fmt: skip
        for key, value in job["variables"].items():
            env[key] = os.path.expandvars(str(value).replace("$CI_PROJECT_DIR", str(work)))
        done = subprocess.run(["bash", "-c", script], cwd=work, env=env, capture_output=True,
                              text=True, timeout=600)  # fmt: skip
        assert done.returncode == 0, done.stdout + done.stderr
        assert [n["mr"] for n in gl.notes] == [(42, 3)]
        assert "+def test_clamp_bounds" in gl.notes[0]["body"]
    artifacts = job["artifacts"]
    assert artifacts["reports"]["junit"] == "assay-junit.xml"
    for path in artifacts["paths"]:
        assert (work / path).is_file(), path
    assert 'name="test_clamp_bounds"' in (work / "assay-junit.xml").read_text()


# -- the pre-commit hook -------------------------------------------------------------------------


def test_precommit_hook_writes_tests_for_the_staged_function(
    tmp_path: Path, fake_llm: FakeOpenAI
) -> None:
    precommit = tool("pre-commit")
    work, _, _ = make_pr(tmp_path)
    hooks = tmp_path / "hooks"  # the hook repository: this checkout's hook files, committed
    (hooks / "deploy" / "ci").mkdir(parents=True)
    shutil.copy2(HOOKS, hooks)
    shutil.copy2(ROOT / "deploy/ci/precommit_assay_tests.py", hooks / "deploy/ci")
    git(hooks, "init", "-q")
    git(hooks, "add", ".")
    git(hooks, "commit", "-qm", "hooks")

    def answer(req: Any) -> str:
        prompt = req.messages[1]["content"]
        if "Describe what" in prompt:
            return "```yaml\ninputs: x, low, high\n```"
        if "worth a test" in prompt:
            return "```yaml\n- kind: edge\n  description: clamps below and above the range\n```"
        return f"```python\n{CLAMP_TEST}```"

    fake_llm.on(answer)
    ops = work / "calc" / "ops.py"
    ops.write_text(ops.read_text().replace("    if x < low:", "    if x < low:  # below"))
    git(work, "add", "calc/ops.py")
    env = {**base_env(tmp_path / "home"), "ASSAY_LLM_BASE_URL": fake_llm.url,
           "ASSAY_LLM_MODEL": "fake-model", "ASSAY_TESTS_ARGS": "--repeat 1 --attempts 1",
           "PRE_COMMIT_HOME": str(tmp_path / "pre-commit-home")}  # fmt: skip
    done = subprocess.run(
        [precommit, "try-repo", str(hooks), "assay-tests", "--hook-stage", "manual",
         "--files", "calc/ops.py", "calc/__init__.py", "tests/test_ops.py"],
        cwd=work, env=env, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    log = done.stdout + done.stderr
    assert done.returncode == 1, log  # it wrote tests: review and stage them
    assert "assay-tests: calc/ops.py::clamp" in log
    assert "tests/test_ops_assay.py" in log
    assert "def test_clamp_bounds" in (work / "tests" / "test_ops_assay.py").read_text()
