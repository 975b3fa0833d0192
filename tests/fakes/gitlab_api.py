"""A fake GitLab v4 REST API on a loopback port (see :mod:`tests.fakes.code_hosts`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from tests.fakes.code_hosts import Answer, Call, FakeHost, diff_lines


@dataclass
class FakeMR:
    project: int
    iid: int
    head: str
    base: str
    start: str
    diffs: list[dict[str, Any]]  # [{old_path, new_path, diff, new_file, …}]
    title: str = "a change"
    state: str = "opened"
    clone_url: str = ""
    files: dict[tuple[str, str], str] = field(default_factory=dict)
    description: str = ""
    labels: list[str] = field(default_factory=list)

    @property
    def unified(self) -> str:
        return "".join(f"+++ b/{d['new_path']}\n{d['diff']}" for d in self.diffs)


class FakeGitLab(FakeHost):
    """The GitLab v4 REST API with one access token."""

    def __init__(self, token: str) -> None:
        super().__init__()
        self.token = token
        self.mrs: dict[tuple[int, int], FakeMR] = {}
        self.notes: list[dict[str, Any]] = []
        self.discussions: list[dict[str, Any]] = []
        self.statuses: list[dict[str, Any]] = []
        mr = r"/api/v4/projects/(\d+)/merge_requests/(\d+)"
        r = self.route
        r("GET", r"/api/v4/projects/(\d+)", self._project)
        r("GET", mr, self._mr)
        r("PUT", mr, self._put_mr)
        r("GET", mr + r"/discussions/(\w+)", self._get_discussion)
        r("POST", mr + r"/discussions/(\w+)/notes", self._new_dnote)
        r("GET", mr + "/diffs", self._diffs)
        r("GET", r"/api/v4/projects/(\d+)/repository/files/(.+)/raw", self._file)
        r("POST", r"/api/v4/projects/(\d+)/statuses/([0-9a-f]+)", self._status)
        r("GET", mr + "/notes", self._list_notes)
        r("POST", mr + "/notes", self._new_note)
        r("PUT", mr + r"/notes/(\d+)", self._put_note)
        r("GET", mr + "/discussions", self._list_discussions)
        r("POST", mr + "/discussions", self._new_discussion)
        r("PUT", mr + r"/discussions/(\w+)/notes/(\d+)", self._put_dnote)
        r("DELETE", mr + r"/discussions/(\w+)/notes/(\d+)", self._delete_dnote)

    def add_mr(self, mr: FakeMR) -> FakeMR:
        self.mrs[(mr.project, mr.iid)] = mr
        return mr

    def authorized(self, call: Call) -> bool:
        return call.headers.get("private-token") == self.token

    def _get(self, project: str, iid: str) -> FakeMR:
        return self.mrs[(int(project), int(iid))]

    def _project(self, call: Call, project: str) -> Answer:
        mr = next(m for m in self.mrs.values() if m.project == int(project))
        return Answer(200, {"id": int(project), "http_url_to_repo": mr.clone_url})

    def _mr(self, call: Call, project: str, iid: str) -> Answer:
        mr = self._get(project, iid)
        return Answer(200, {
            "iid": mr.iid, "title": mr.title, "state": mr.state, "sha": mr.head,
            "description": mr.description or None, "labels": mr.labels,
            "diff_refs": {"base_sha": mr.base, "start_sha": mr.start, "head_sha": mr.head},
        })  # fmt: skip

    def _put_mr(self, call: Call, project: str, iid: str) -> Answer:
        mr = self._get(project, iid)
        mr.description = call.body.get("description", mr.description)
        added = [x for x in str(call.body.get("add_labels") or "").split(",") if x]
        mr.labels = list(dict.fromkeys([*mr.labels, *added]))
        return Answer(200, {"iid": mr.iid, "description": mr.description, "labels": mr.labels})

    def _get_discussion(self, call: Call, project: str, iid: str, did: str) -> Answer:
        found = [d for d in self.discussions if d["id"] == did]
        return Answer(200, found[0]) if found else Answer(404, {"message": "404 Not found"})

    def _new_dnote(self, call: Call, project: str, iid: str, did: str) -> Answer:
        found = [d for d in self.discussions if d["id"] == did]
        if not found:
            return Answer(404, {"message": "404 Not found"})
        note = {"id": next(self.ids), "body": call.body["body"]}
        found[0]["notes"].append(note)
        return Answer(201, note)

    def _diffs(self, call: Call, project: str, iid: str) -> Answer:
        return self.page(call, self._get(project, iid).diffs, "gitlab")

    def _file(self, call: Call, project: str, path: str) -> Answer:
        for mr in self.mrs.values():
            if mr.project == int(project) and (call.query.get("ref", ""), path) in mr.files:
                return Answer(200, raw=mr.files[(call.query["ref"], path)].encode())
        return Answer(404, {"message": "404 File Not Found"})

    def _status(self, call: Call, project: str, sha: str) -> Answer:
        status = {"id": next(self.ids), "sha": sha, **call.body}
        self.statuses.append(status)
        return Answer(201, status)

    def _list_notes(self, call: Call, project: str, iid: str) -> Answer:
        items = [n for n in self.notes if n["mr"] == (int(project), int(iid))]
        return self.page(call, items, "gitlab")

    def _new_note(self, call: Call, project: str, iid: str) -> Answer:
        note = {"id": next(self.ids), "mr": (int(project), int(iid)), "body": call.body["body"]}
        self.notes.append(note)
        return Answer(201, note)

    def _put_note(self, call: Call, project: str, iid: str, note_id: str) -> Answer:
        note = next(n for n in self.notes if n["id"] == int(note_id))
        note["body"] = call.body["body"]
        return Answer(200, note)

    def _list_discussions(self, call: Call, project: str, iid: str) -> Answer:
        items = [d for d in self.discussions if d["mr"] == (int(project), int(iid))]
        return self.page(call, items, "gitlab")

    def _new_discussion(self, call: Call, project: str, iid: str) -> Answer:
        mr = self._get(project, iid)
        pos = call.body.get("position") or {}
        refs = (pos.get("base_sha"), pos.get("start_sha"), pos.get("head_sha"))
        if refs != (mr.base, mr.start, mr.head):
            return Answer(400, {"message": "position SHAs are not the MR's diff refs"})
        shown = diff_lines(mr.unified).get(pos.get("new_path"), {})
        if pos.get("new_line") not in shown or shown[pos["new_line"]] != pos.get("old_line"):
            return Answer(
                400, {"message": "line_code can't be blank"}
            )  # both lines of a context one
        note = {"id": next(self.ids), "body": call.body["body"], "position": pos}
        discussion = {"id": f"d{next(self.ids)}", "mr": (int(project), int(iid)), "notes": [note]}
        self.discussions.append(discussion)
        return Answer(201, discussion)

    def _dnote(self, did: str, nid: str) -> tuple[dict[str, Any], dict[str, Any]]:
        d = next(d for d in self.discussions if d["id"] == did)
        return d, next(n for n in d["notes"] if n["id"] == int(nid))

    def _put_dnote(self, call: Call, project: str, iid: str, did: str, nid: str) -> Answer:
        _, note = self._dnote(did, nid)
        note["body"] = call.body["body"]
        return Answer(200, note)

    def _delete_dnote(self, call: Call, project: str, iid: str, did: str, nid: str) -> Answer:
        d, note = self._dnote(did, nid)
        d["notes"].remove(note)
        if not d["notes"]:
            self.discussions.remove(d)
        return Answer(204, raw=b"")
