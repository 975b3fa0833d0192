"""Runs a reviewer on the pinned PRs against an OpenAI-compatible endpoint, one PR at a time.

    python3.11 benchmarks/review/run.py pr-agent --endpoint http://127.0.0.1:8111 [options]
    python3.11 benchmarks/review/run.py assay --endpoint http://127.0.0.1:8111 \
        [--tag assay-behaviour] [--assay-arg=--FLAG]... [options]

The two assay rows (README.md): ``--tag assay-behaviour --assay-arg=--behaviour
--assay-arg=--checks --assay-arg=--verify`` (the behaviour diff with the checks of findings and
verified suggestions, ``assay review``'s defaults) and ``--tag assay-model
--assay-arg=--no-behaviour --assay-arg=--no-checks --assay-arg=--no-verify`` (the model only).

Common options: ``--pr ID`` (repeatable; default all), ``--kind bug|refactor``, ``--tag NAME``
(results go to ``benchmarks/work/review/results/<tag>/<pr>/``; default: the tool's name),
``--timeout S`` (whole run of one PR, default 900), ``--dry-run`` (print the commands).

- **pr-agent** 0.49 (venv from ``setup_pr_agent.sh``): the PR's ``pr.diff`` alone in an empty
  directory, ``pr-agent --diff-file pr.diff --json-output review.json review`` with the
  settings of shared/BENCHMARKING.md as environment variables (model, no fallback models,
  8,192-token context, offline litellm) and ``CONFIG__AI_TIMEOUT`` (``--ai-timeout``, default
  600 s: one answer of the embedded model can take minutes on 2 cores).
- **assay**: the PR materialised (``materialise.py``) in a fresh directory named ``boltons``,
  ``assay review REPO --base base --json review.json --no-tests --no-cache`` plus every
  ``--assay-arg`` (``--behaviour``/``--no-behaviour`` and the others go there), its own
  ``ASSAY_HOME``.

Both talk to the endpoint through ``usage_proxy.py``, which counts calls and tokens the same
way for every tool.  Per PR: ``review.json`` (the tool's own JSON), ``stdout.txt``,
``stderr.txt``, ``meta.json`` (command, exit code, wall time, tokens, load average).
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common
from usage_proxy import UsageProxy

PR_AGENT_VENV = Path(os.environ.get("PR_AGENT_VENV", common.WORK / "pr-agent-venv"))


def model_id(endpoint: str) -> str:
    try:
        with urllib.request.urlopen(f"{endpoint}/v1/models", timeout=10) as resp:
            return json.load(resp)["data"][0]["id"]
    except (OSError, ValueError, KeyError, IndexError) as exc:
        raise SystemExit(
            f"no OpenAI-compatible server answering at {endpoint}/v1/models ({exc}); "
            "start one (e.g. assay model serve --port 8111) or pass --model NAME"
        ) from exc


def wait_idle(endpoint: str, model: str, max_seconds: float = 900) -> float:
    """After a cut run the server may still be generating an answer nobody reads: wait until a
    1-token request is served (seconds waited)."""
    start = time.monotonic()
    body = json.dumps(
        {"model": model, "max_tokens": 1, "messages": [{"role": "user", "content": "hi"}]}
    ).encode()
    while time.monotonic() - start < max_seconds:
        req = urllib.request.Request(
            f"{endpoint}/v1/chat/completions",
            data=body,
            headers={"Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(req, timeout=max_seconds):
                return round(time.monotonic() - start, 1)
        except (OSError, urllib.error.URLError):
            time.sleep(5)
    return round(time.monotonic() - start, 1)


def pr_agent_env(proxy_url: str, model: str, ai_timeout: int) -> dict[str, str]:
    site = subprocess.run(
        [
            str(PR_AGENT_VENV / "bin" / "python"),
            "-c",
            "import litellm, os; print(os.path.dirname(litellm.__file__))",
        ],
        capture_output=True,
        text=True,
        env={**os.environ, "LITELLM_LOCAL_MODEL_COST_MAP": "True"},
    ).stdout.strip()
    env = {
        **os.environ,
        "CONFIG__MODEL": f"openai/{model}",
        "CONFIG__FALLBACK_MODELS": "[]",
        "CONFIG__CUSTOM_MODEL_MAX_TOKENS": "8192",
        "CONFIG__AI_TIMEOUT": str(ai_timeout),
        "OPENAI__KEY": "x",
        "OPENAI__API_BASE": f"{proxy_url}/v1",
        "LITELLM_LOCAL_MODEL_COST_MAP": "True",
        "TIKTOKEN_CACHE_DIR": f"{site}/litellm_core_utils/tokenizers",
    }
    for k in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "OPENAI_API_BASE"):
        env.pop(k, None)
    return env


def prepare_pr_agent(
    pr_id: str, tmp: Path, proxy_url: str, model: str, args
) -> tuple[list[str], dict, Path]:
    exe = PR_AGENT_VENV / "bin" / "pr-agent"
    if not exe.exists():
        raise SystemExit(f"{exe} missing: run benchmarks/review/setup_pr_agent.sh first")
    (tmp / "pr.diff").write_text(common.pr_diff(pr_id))
    cmd = [str(exe), "--diff-file", "pr.diff", "--json-output", str(tmp / "review.json"), "review"]
    return cmd, pr_agent_env(proxy_url, model, args.ai_timeout), tmp


def prepare_assay(
    pr_id: str, tmp: Path, proxy_url: str, model: str, args
) -> tuple[list[str], dict, Path]:
    exe = args.assay_bin
    if not Path(exe).exists():
        raise SystemExit(
            f"no assay at {exe}: pass --assay-bin or set ASSAY_BIN "
            "(bash scripts/quickstart.sh makes .venv/bin/assay)"
        )
    repo = tmp / "boltons"
    common.materialise(pr_id, repo)
    cmd = [
        exe,
        "review",
        str(repo),
        "--base",
        "base",
        "--json",
        str(tmp / "review.json"),
        "--no-tests",
        "--no-cache",
        "--llm-base-url",
        f"{proxy_url}/v1",
        "--llm-model",
        model,
        *args.assay_arg,
    ]
    home = Path(args.assay_home)
    home.mkdir(parents=True, exist_ok=True)
    return cmd, {**os.environ, "ASSAY_HOME": str(home)}, repo


def tool_version(tool: str, args) -> str:
    if tool == "pr-agent":
        exe = [str(PR_AGENT_VENV / "bin" / "python"), "-m", "pip", "show", "pr-agent"]
        out = subprocess.run(exe, capture_output=True, text=True).stdout
        return next(
            (ln.split(":", 1)[1].strip() for ln in out.splitlines() if ln.startswith("Version:")),
            "?",
        )
    out = subprocess.run([args.assay_bin, "--version"], capture_output=True, text=True).stdout
    return out.strip().split()[-1] if out.strip() else "?"


def run_one(tool: str, pr_id: str, args, model: str, version: str) -> dict[str, Any]:
    out_dir = common.WORK / "results" / args.tag / pr_id
    tmp = Path(tempfile.mkdtemp(prefix="review-bench-"))
    proxy = UsageProxy(args.endpoint).start()
    try:
        prep = prepare_pr_agent if tool == "pr-agent" else prepare_assay
        cmd, env, cwd = prep(pr_id, tmp, proxy.url, model, args)
        shown = " ".join(shlex.quote(c) for c in cmd)
        if args.dry_run:
            print(f"[{pr_id}] cd {cwd} && {shown}")
            return {}
        if out_dir.exists():
            shutil.rmtree(out_dir)
        out_dir.mkdir(parents=True)
        load0 = os.getloadavg()[0]
        start = time.monotonic()
        with open(out_dir / "stdout.txt", "w") as so, open(out_dir / "stderr.txt", "w") as se:
            proc = subprocess.Popen(
                cmd,
                cwd=cwd,
                env=env,
                stdout=so,
                stderr=se,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
            try:
                rc = proc.wait(timeout=args.timeout)
                timed_out = False
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGTERM)
                try:
                    proc.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    os.killpg(proc.pid, signal.SIGKILL)
                    proc.wait()
                rc, timed_out = proc.returncode, True
        wall = round(time.monotonic() - start, 1)
        have_json = (tmp / "review.json").is_file()
        if have_json:
            shutil.copy(tmp / "review.json", out_dir / "review.json")
        usage = proxy.totals()
        proxy_url = proxy.url
    finally:
        proxy.stop()
        if not args.keep:
            shutil.rmtree(tmp, ignore_errors=True)
    meta = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "tool": tool,
        "tool_version": version,
        "tag": args.tag,
        "pr": pr_id,
        "kind": common.load_manifest(pr_id)["kind"],
        "endpoint": args.endpoint,
        "model": model,
        "command": shown.replace(str(tmp), "$TMP").replace(proxy_url, "$PROXY"),
        "exit_code": rc,
        "timed_out": timed_out,
        "timeout_s": args.timeout,
        "wall_seconds": wall,
        "review_json": have_json,
        "usage": usage,
        "load1_start": round(load0, 2),
        "load1_end": round(os.getloadavg()[0], 2),
        "cpus": os.cpu_count(),
    }
    if timed_out:
        meta["drain_seconds"] = wait_idle(args.endpoint, model)
    (out_dir / "meta.json").write_text(json.dumps(meta, indent=2) + "\n")
    with open(common.WORK / "results" / f"{args.tag}.jsonl", "a") as f:
        f.write(json.dumps(meta) + "\n")
    return meta


def main() -> int:
    ap = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("tool", choices=["pr-agent", "assay"])
    ap.add_argument(
        "--endpoint",
        required=True,
        help="http://HOST:PORT of the model server (with or without /v1)",
    )
    ap.add_argument("--model", help="model name at the endpoint (default: the first of /v1/models)")
    ap.add_argument("--pr", action="append", default=[], help="PR id (repeatable; default: all)")
    ap.add_argument("--kind", choices=["bug", "refactor"], help="only PRs of this kind")
    ap.add_argument("--tag", help="results name (default: the tool)")
    ap.add_argument("--timeout", type=int, default=900, help="seconds for one PR's whole run")
    ap.add_argument(
        "--ai-timeout", type=int, default=600, help="pr-agent: seconds for one model answer"
    )
    ap.add_argument(
        "--assay-bin",
        default=os.environ.get("ASSAY_BIN", str(common.REPO_ROOT / ".venv" / "bin" / "assay")),
    )
    ap.add_argument(
        "--assay-arg",
        action="append",
        default=[],
        help="extra argument for `assay review` (repeatable; write --assay-arg=--flag)",
    )
    ap.add_argument("--assay-home", default=str(common.WORK / "assay-home"))
    ap.add_argument("--keep", action="store_true", help="keep the temporary directories")
    ap.add_argument("--dry-run", action="store_true", help="print the commands only")
    args = ap.parse_args()
    args.endpoint = args.endpoint.rstrip("/").removesuffix("/v1")
    args.tag = args.tag or args.tool
    ids = args.pr or common.all_pr_ids(args.kind)
    for pr_id in ids:
        common.load_manifest(pr_id)
    model = args.model or ("MODEL" if args.dry_run else model_id(args.endpoint))
    version = "?" if args.dry_run else tool_version(args.tool, args)
    (common.WORK / "results").mkdir(parents=True, exist_ok=True)
    for pr_id in ids:
        meta = run_one(args.tool, pr_id, args, model, version)
        if meta:
            u = meta["usage"]
            cut = " CUT" if meta["timed_out"] else ""
            print(
                f"{args.tag} {pr_id:32} rc={meta['exit_code']}{cut} "
                f"{meta['wall_seconds']:7.1f}s calls={u['calls']} tokens={u['tokens']} "
                f"json={'yes' if meta['review_json'] else 'NO'}",
                flush=True,
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
