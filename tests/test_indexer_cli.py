"""``assay index``, ``assay search`` and ``assay policy`` through the real entry point."""

from __future__ import annotations

import json
from pathlib import Path

from tests.kit.cli import run_assay as assay
from tests.kit.gitrepos import DIGEST, RETRY, commit, make_repo

FAST = {"ASSAY_EMBEDDING_MODEL": "hash-64"}  # the real model has its own test


def test_index_search_and_policy_from_the_command_line(tmp_path: Path, assay_home: Path) -> None:
    core = make_repo(tmp_path / "core", {"src/digest.py": DIGEST, "legacy/digest.py": DIGEST})
    old = make_repo(tmp_path / "old", {"digest.py": DIGEST, "net.py": RETRY})

    done = assay("index", "add", str(core), "--tier", "high", env=FAST)
    assert done.returncode == 0, done.stderr
    assert "core @ " in done.stdout and "2 embedded" in done.stdout
    done = assay("index", "add", str(old), "--tier", "deprecated", env=FAST)
    assert done.returncode == 0, done.stderr

    done = assay("policy", "set-path-weight", "legacy/**", "0.25", "--repo", "core", env=FAST)
    assert done.returncode == 0, done.stderr
    done = assay("search", "file checksum", "--explain", "-k", "5", env=FAST)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert "core:src/digest.py" in lines[0] and "core:legacy/digest.py" in lines[2]
    assert "× tier high 1.5 × path 1 =" in lines[1]
    assert "× tier high 1.5 × path 0.25 =" in lines[3]
    assert "old:" not in done.stdout  # deprecated: never an example

    notes = tmp_path / "practices.md"
    notes.write_text("# Rules\n\nUse hashlib.\n")
    done = assay("policy", "best-practices", "--set", str(notes), env=FAST)
    assert done.returncode == 0, done.stderr
    done = assay("policy", "show", "--json", env=FAST)
    shown = json.loads(done.stdout)
    assert shown["tiers"] == {"core": "high", "old": "deprecated"}
    assert shown["path_weights"] == [{"glob": "legacy/**", "weight": 0.25, "repo": "core"}]
    assert shown["best_practices"]["org"] == "# Rules\n\nUse hashlib.\n"

    commit(core, {"src/net.py": RETRY})
    done = assay("index", "update", "--all", env=FAST)
    assert done.returncode == 0, done.stderr
    assert "1 embedded, 2 unchanged" in done.stdout and "0 embedded, 2 unchanged" in done.stdout

    done = assay("index", "remove", "old", env=FAST)
    assert done.returncode == 0, done.stderr
    status = json.loads(assay("index", "status", "--json", env=FAST).stdout)
    assert [(r["name"], r["tier"], r["files"], r["stored_chunks"]) for r in status] == [
        ("core", "high", 3, 3)
    ]
    assert len(status[0]["commit"]) == 40 and status[0]["last_run"]


def test_bad_input_is_one_line_and_exit_2(tmp_path: Path) -> None:
    done = assay("policy", "set-tier", "core", "superb", env=FAST)
    assert done.returncode == 2
    assert done.stderr.strip() == (
        "error: Unknown tier 'superb' for core: use one of high, normal, low, deprecated, grow"
    )
    done = assay("index", "update", "nope", env=FAST)
    assert done.returncode == 2
    assert done.stderr.startswith("error: Repository 'nope' is not in the index (indexed: none")
    assert len(done.stderr.strip().splitlines()) == 1
