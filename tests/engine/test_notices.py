"""Notices reach the group robots an organisation configured, after the commit, with retries."""
from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Iterator

import pytest

from engine import ValidationError
from tests.engine.test_deadlines import leaders, open_task  # noqa: F401
from tests.fixtures.time import advance_to, bj


class Robot(BaseHTTPRequestHandler):
    received: list[dict[str, Any]] = []
    answers: list[dict[str, Any]] = []

    def do_POST(self) -> None:  # noqa: N802 (http.server's name)
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        Robot.received.append({"path": self.path, "body": body})
        answer = Robot.answers.pop(0) if Robot.answers else {"errcode": 0, "errmsg": "ok"}
        data = json.dumps(answer).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def robot() -> Iterator[str]:
    Robot.received, Robot.answers = [], []
    server = ThreadingHTTPServer(("127.0.0.1", 0), Robot)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/cgi-bin/webhook/send?key=test-key"
    server.shutdown()
    server.server_close()


def test_an_overdue_notice_goes_to_the_villages_wecom_group(leaders, clock, robot):  # noqa: F811
    eng = leaders
    eng.configure_channel("t1", "wecom", {"webhook": robot}, by="admin")
    clock.set(bj("2026-09-01T09:00"))
    iid = eng.start("deadline_item", {"rectify_days": 10}, by="zhang", org="v1")
    assert Robot.received == []  # nothing is sent before it is due
    # the robot refuses once (rate limit), then accepts: one message, no duplicate
    Robot.answers = [{"errcode": 45009, "errmsg": "api freq out of limit"}]
    advance_to(eng, clock, bj("2026-09-03T23:59:59"))
    advance_to(eng, clock, bj("2026-09-04T00:10"))
    contents = [r["body"]["markdown"]["content"] for r in Robot.received]
    assert len(contents) == 2 and contents[0] == contents[1]  # a retry of one message
    assert "【提醒】问题整改：责任分解" in contents[0]
    assert open_task(eng, iid, "assign").light == "yellow"
    assert eng.list_jobs(failed=True) == []


def test_channel_settings_are_checked(leaders):  # noqa: F811
    with pytest.raises(ValidationError):
        leaders.configure_channel("t1", "wecom", {"webhook": "ftp://x"}, by="admin")
    with pytest.raises(ValidationError):
        leaders.configure_channel("t1", "pigeon", {}, by="admin")
