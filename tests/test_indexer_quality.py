"""The quality policy: tiers, path weights, best practices, its file; the agents' API."""

from __future__ import annotations

from pathlib import Path

import pytest

from agents.indexing import IndexService, best_practices, close_shared, grow_repos, retrieve
from agents.settings import load_settings
from indexer.errors import PolicyError
from indexer.quality import Policy, load_policy, save_policy
from tests.kit.gitrepos import DIGEST, RETRY, make_repo


def test_tiers_weights_and_edits() -> None:
    policy = Policy().with_tier("core", "high").with_tier("old", "deprecated")
    policy = policy.with_tier("shop", "grow").with_tier("lab", "low")
    assert policy.tier("core") == "high" and policy.tier("unknown") == "normal"
    assert policy.tier_weight("core") == 1.5 and policy.tier_weight("lab") == 0.5
    assert policy.excluded_repos() == ["old"] and policy.grow_repos() == ["shop"]
    expected = {"old": "deprecated", "shop": "grow", "lab": "low"}
    assert policy.with_tier("core", "normal").tiers == expected
    with pytest.raises(PolicyError, match="Unknown tier 'great' for core: use one of high"):
        policy.with_tier("core", "great")


def test_path_weights_multiply_and_can_be_scoped_to_a_repo() -> None:
    policy = Policy().with_path_weight("legacy/**", 0.5).with_path_weight("*_test.go", 0.5)
    policy = policy.with_path_weight("gen/**", 0.1, repo="core")
    assert policy.path_weight("any", "legacy/a_test.go") == 0.25
    assert policy.path_weight("any", "src/a.go") == 1.0
    assert policy.path_weight("core", "gen/x.py") == pytest.approx(0.1)
    assert policy.path_weight("other", "gen/x.py") == 1.0
    assert policy.with_path_weight("legacy/**", 1).path_weight("x", "legacy/a.py") == 1.0
    with pytest.raises(PolicyError, match="out of range"):
        policy.with_path_weight("x/**", -1)


def test_the_policy_file_round_trips_and_bad_files_say_where(tmp_path: Path) -> None:
    markdown = "# Our rules\n\n- use `pathlib`\n- no bare except\n"
    policy = (
        Policy()
        .with_tier("core", "high")
        .with_path_weight("legacy/**", 0.3, repo="core")
        .with_best_practices(markdown)
        .with_best_practices("Prefer dataclasses.\n", repo="core")
    )
    path = tmp_path / "policy.yaml"
    save_policy(path, policy)
    text = path.read_text()
    assert "- use `pathlib`" in text  # markdown stays readable in the file
    loaded = load_policy(path)
    assert loaded == policy
    assert loaded.best_practices("core") == f"{markdown}\n## core\n\nPrefer dataclasses.\n"
    assert loaded.best_practices(None) == markdown
    assert load_policy(tmp_path / "absent.yaml") == Policy()
    path.write_text("tiers:\n  core: superb\n")
    with pytest.raises(PolicyError, match=r"Unknown tier 'superb' for core in .*policy.yaml"):
        load_policy(path)
    path.write_text("tiers: [oops\n")
    with pytest.raises(PolicyError, match="Malformed policy"):
        load_policy(path)


def test_the_agents_api_retrieves_with_the_policy(
    tmp_path: Path, assay_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ASSAY_EMBEDDING_MODEL", "hash-64")
    settings = load_settings(None).settings
    good = make_repo(tmp_path / "good", {"digest.py": DIGEST, "net.py": RETRY})
    old = make_repo(tmp_path / "old", {"digest.py": DIGEST})
    with IndexService(settings) as service:
        service.add(str(good), tier="high")
        service.add(str(old), tier="deprecated")
        service.set_tier("shop", "grow")
        service.set_best_practices("Use hashlib for checksums.\n")
        service.set_best_practices("Stream big files.\n", repo="good")
    try:
        hits = retrieve("file checksum", k=5)
        assert [h.repo for h in hits] == ["good", "good"]
        assert hits[0].path == "digest.py" and hits[0].tier == "high"
        assert retrieve("file checksum", k=5, repo="old") == []
        assert retrieve("file checksum", k=5, lang="go") == []
        assert best_practices("good") == (
            "Use hashlib for checksums.\n\n## good\n\nStream big files.\n"
        )
        assert grow_repos() == ["shop"]
    finally:
        close_shared()
    assert (assay_home / "policy.yaml").is_file()
    assert (assay_home / "index" / "repos.json").is_file()
