"""The code-host boundaries on their own: signatures, App tokens, errors translated, pagination,
the files-API fallback for diffs GitHub will not render, `.assay.toml` parsing."""

from __future__ import annotations

from pathlib import Path

import pytest

from agents.errors import ConfigError, PlatformError
from agents.gitdiff import added_lines, parse_diff
from agents.platforms import github, gitlab
from agents.platforms.base import PullRequest
from agents.settings import Settings, with_repo_files
from tests.fakes.code_hosts import FakeGitHub, FakePR
from tests.kit.service import rsa_pair

DIFF = """\
diff --git a/app/calc.py b/app/calc.py
--- a/app/calc.py
+++ b/app/calc.py
@@ -1,2 +1,4 @@
 def add(a, b):
     return a + b
+def divide(a, b):
+    return a / b
"""


def test_signatures_are_checked_exactly() -> None:
    body = b'{"action": "opened"}'
    good = github.sign(b"s", body)
    assert github.verify_signature(b"s", body, good)
    assert not github.verify_signature(b"s", body + b" ", good)
    assert not github.verify_signature(b"other", body, good)
    assert not github.verify_signature(b"s", body, good.replace("sha256=", "sha1="))
    assert not github.verify_signature(b"s", body, None)
    assert gitlab.verify_token(b"tok", "tok") and not gitlab.verify_token(b"tok", "tok2")
    assert not gitlab.verify_token(b"tok", None)


def test_app_token_is_cached_and_errors_are_translated() -> None:
    private, public = rsa_pair()
    with FakeGitHub(app_id=5, public_key=public) as gh:
        url = gh.url
        pr = gh.add_pr(FakePR("acme/shop", 1, "a" * 40, "b" * 40, DIFF))
        app = github.GitHubApp(gh.url, 5, private)
        host = github.GitHubHost(gh.url, lambda: app.installation_token(3))
        assert host.pull_request("acme/shop", 1).head_sha == "a" * 40
        host.pull_request("acme/shop", 1)
        assert len(gh.calls_to("POST", "/app/installations/3/access_tokens")) == 1
        # A 406 ("diff too large"): the diff is rebuilt from the files API.
        pr.changed = [{"filename": "app/calc.py", "status": "modified",
                       "patch": DIFF.split("+++ b/app/calc.py\n")[1].rstrip("\n")}]  # fmt: skip
        gh.fail_next[("GET", "/repos/acme/shop/pulls/1")] = 406
        ref = PullRequest("github", "acme/shop", 1, "a" * 40, "b" * 40)
        assert added_lines(parse_diff(host.diff(ref))) == {"app/calc.py": {3, 4}}
        gh.fail_next[("GET", "/repos/acme/shop/pulls/1")] = 502
        with pytest.raises(PlatformError) as server_error:
            host.pull_request("acme/shop", 1)
        assert server_error.value.transient and server_error.value.status == 502
        assert host.read_file(ref, "missing.toml") is None
        stranger = github.GitHubHost(gh.url, lambda: "ghs_forged")
        with pytest.raises(PlatformError) as denied:
            stranger.pull_request("acme/shop", 1)
        assert denied.value.status == 401 and not denied.value.transient
        assert "ASSAY_GITHUB_APP_ID" in str(denied.value)
        bad_key = github.GitHubApp(gh.url, 5, "not a key")
        with pytest.raises(PlatformError, match="private key cannot sign"):
            bad_key.installation_token(3)
    with pytest.raises(PlatformError) as down:
        github.GitHubHost(url, lambda: "x").pull_request("acme/shop", 1)
    assert down.value.transient and "unreachable" in str(down.value)


def test_listing_follows_pagination() -> None:
    with FakeGitHub(token="t") as gh:
        gh.add_pr(FakePR("acme/shop", 1, "a" * 40, "b" * 40, DIFF))
        gh.per_page_cap = 2
        for i in range(5):
            gh.issue_comments.append({"id": i, "pr": ("acme/shop", 1), "body": f"c{i}"})
        gh.issue_comments.append({"id": 9, "pr": ("acme/shop", 1), "body": "x <!-- m -->"})
        host = github.GitHubHost(gh.url, lambda: "t")
        ref = PullRequest("github", "acme/shop", 1, "a" * 40, "b" * 40)
        assert host.upsert_note(ref, "<!-- m -->", "new <!-- m -->") == "9"
        assert len(gh.calls_to("GET", "/repos/acme/shop/issues/1/comments")) == 3
        assert gh.issue_comments[-1]["body"] == "new <!-- m -->"


def test_a_prs_assay_toml_is_a_layer_of_the_settings_and_its_problems_are_named() -> None:
    base = Settings(home=Path("/tmp/assay-home"), review_max_per_file=7)
    settings, files = with_repo_files(base, {".assay.toml": None})
    assert settings.review_enabled and settings.review_tests and files == []
    text = "[review]\nmax_findings = 3\nexclude = ['docs/*']\n[tests]\nrepeat = 5\n"
    settings, _ = with_repo_files(base, {".assay.toml": text})
    assert settings.review_max_findings == 3 and settings.review_exclude == ["docs/*"]
    assert settings.cover_repeat == 5
    assert settings.review_max_per_file == 7  # set by the service: over the repository's file
    with pytest.raises(ConfigError, match=r"review\.max_findngs.*did you mean 'max_findings'"):
        with_repo_files(base, {".assay.toml": "[review]\nmax_findngs = 3\n"})
    with pytest.raises(ConfigError, match=r"Malformed \.assay\.toml"):
        with_repo_files(base, {".assay.toml": "[review\n"})
    with pytest.raises(ConfigError, match=r"'llm_base_url' .* a setting of the service"):
        with_repo_files(base, {".assay.toml": "llm_base_url = 'http://evil.example/v1'\n"})
