"""engine.channels against real servers on loopback: a group robot and a fake SMTP server.

Nothing here reaches the internet; the robot server plays 企业微信 and 钉钉, the SMTP
server speaks just enough ESMTP (EHLO, STARTTLS, AUTH PLAIN, MAIL, RCPT, DATA).
"""
from __future__ import annotations

import base64
import email
import email.policy
import hashlib
import hmac
import json
import shutil
import socket
import socketserver
import ssl
import subprocess
import threading
import urllib.parse
from dataclasses import dataclass, field
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Iterator

import pytest

from engine import channels
from engine.channels import CHANNEL_KINDS, DeliveryError, Notice, send, validate_settings

WECOM_KEY = "693a91f6-7xxx-4bc4-97a0-0ec2sifa5aaa"
DING_TOKEN = "a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90"
DING_SECRET = "SECd0e6c4b7f1a2e3d4c5b6a7980f1e2d3c4b5a69788796a5b4c3d2e1f0a9b8c7"
SMTP_PASSWORD = "hunter2-很长的密码"
TITLE = "【督办】问题整改：责任分解已超期 2 个工作日"
BODY = "请于今日内完成责任分解。\n如有困难，请联系镇督查室。"
LINK = "https://duban.example.gov.cn/tasks/42"


def notice(**changes: Any) -> Notice:
    """A typical overdue notice; ``changes`` replace its fields."""
    base: dict[str, Any] = dict(title=TITLE, body=BODY, kind="overdue", recipient_name="张三",
                                recipient_email="zhangsan@example.gov.cn",
                                recipient_mobile="13800000000", link=LINK)
    base.update(changes)
    return Notice(**base)


@pytest.fixture(autouse=True)
def _no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    """Requests to the loopback servers must not go through a proxy from the environment."""
    for name in ("http_proxy", "https_proxy", "all_proxy", "HTTP_PROXY", "HTTPS_PROXY",
                 "ALL_PROXY"):
        monkeypatch.delenv(name, raising=False)


def closed_port() -> int:
    """A loopback port nothing listens on (just released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


# --------------------------------------------------------------------------- robot server


@dataclass
class Reply:
    """What the robot server answers to one request."""

    status: int = 200
    json: Any = field(default_factory=lambda: {"errcode": 0, "errmsg": "ok"})
    raw: bytes | None = None
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0


@dataclass
class Seen:
    """One request the robot server received."""

    method: str
    path: str
    raw_query: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> Any:
        return json.loads(self.body.decode("utf-8"))


class RobotServer(ThreadingHTTPServer):
    """A group robot on 127.0.0.1: records requests, answers the queued replies in turn."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), RobotHandler)
        self.requests: list[Seen] = []
        self.replies: list[Reply] = []
        self.release = threading.Event()
        self.lock = threading.Lock()

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def next_reply(self) -> Reply:
        with self.lock:
            return self.replies.pop(0) if self.replies else Reply()

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a client that gave up (timeout test) is expected


class RobotHandler(BaseHTTPRequestHandler):
    server: RobotServer
    protocol_version = "HTTP/1.1"

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length)
        parts = urllib.parse.urlsplit(self.path)
        with self.server.lock:
            self.server.requests.append(Seen(
                "POST", parts.path, parts.query, urllib.parse.parse_qs(parts.query),
                {k.lower(): v for k, v in self.headers.items()}, body))
        reply = self.server.next_reply()
        if reply.delay:
            self.server.release.wait(reply.delay)
        payload = reply.raw if reply.raw is not None else json.dumps(reply.json).encode()
        self.send_response(reply.status)
        self.send_header("Content-Type", reply.content_type)
        self.send_header("Content-Length", str(len(payload)))
        for name, value in reply.headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def robot() -> Iterator[RobotServer]:
    server = RobotServer()
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                              daemon=True)
    thread.start()
    yield server
    server.release.set()
    server.shutdown()
    server.server_close()
    thread.join(5)


def wecom(robot: RobotServer) -> dict[str, str]:
    return {"webhook": f"{robot.base}/cgi-bin/webhook/send?key={WECOM_KEY}"}


def dingtalk(robot: RobotServer, secret: str | None = DING_SECRET) -> dict[str, str]:
    settings = {"webhook": f"{robot.base}/robot/send?access_token={DING_TOKEN}"}
    if secret is not None:
        settings["secret"] = secret
    return settings


def refused(kind: str, settings: dict[str, Any], the_notice: Notice | None = None,
            **kwargs: Any) -> DeliveryError:
    with pytest.raises(DeliveryError) as info:
        send(kind, settings, the_notice or notice(), **kwargs)
    assert_no_secrets(info.value)
    return info.value


def assert_no_secrets(error: DeliveryError) -> None:
    """No secret in the message, repr or any chained exception."""
    texts = [str(error), repr(error), error.message]
    assert error.__cause__ is None and error.__context__ is None
    for text in texts:
        for secret in (WECOM_KEY, DING_TOKEN, DING_SECRET, SMTP_PASSWORD):
            assert secret not in text
            assert urllib.parse.quote(secret) not in text


# --------------------------------------------------------------------------- 企业微信


def test_wecom_posts_markdown_json(robot: RobotServer) -> None:
    send("wecom", wecom(robot), notice())

    [seen] = robot.requests
    assert seen.method == "POST"
    assert seen.path == "/cgi-bin/webhook/send"
    assert seen.query == {"key": [WECOM_KEY]}
    assert seen.headers["content-type"] == "application/json; charset=utf-8"
    payload = seen.json
    assert set(payload) == {"msgtype", "markdown"}
    assert payload["msgtype"] == "markdown"
    content = payload["markdown"]["content"]
    assert content.startswith(f"**{TITLE}**\n")
    assert BODY in content
    assert f"[查看详情]({LINK})" in content


def test_wecom_without_link_has_no_link_line(robot: RobotServer) -> None:
    send("wecom", wecom(robot), notice(link=None))
    content = robot.requests[0].json["markdown"]["content"]
    assert content == f"**{TITLE}**\n{BODY}"


def test_wecom_long_body_is_cut_to_4096_bytes(robot: RobotServer) -> None:
    send("wecom", wecom(robot), notice(body="整改" * 3000))
    content = robot.requests[0].json["markdown"]["content"]
    assert len(content.encode("utf-8")) <= channels.WECOM_MAX_CONTENT_BYTES
    assert content.startswith(f"**{TITLE}**") and content.endswith(f"…\n[查看详情]({LINK})")


def test_wecom_errcode_is_not_retryable(robot: RobotServer) -> None:
    robot.replies.append(Reply(json={"errcode": 93000, "errmsg": "invalid webhook url"}))
    error = refused("wecom", wecom(robot))
    assert not error.retryable
    assert error.errcode == 93000 and error.status == 200 and error.channel == "wecom"
    assert "93000" in str(error) and "invalid webhook url" in str(error)


def test_wecom_rate_limit_is_retryable(robot: RobotServer) -> None:
    robot.replies.append(Reply(json={"errcode": 45009, "errmsg": "api freq out of limit"}))
    error = refused("wecom", wecom(robot))
    assert error.retryable and error.errcode == 45009
    assert error.retry_after == 60.0


@pytest.mark.parametrize("status, retryable", [(500, True), (502, True), (503, True),
                                               (429, True), (400, False), (403, False),
                                               (404, False)])
def test_http_status_decides_retry(robot: RobotServer, status: int, retryable: bool) -> None:
    robot.replies.append(Reply(status=status, raw=b"<html>oops</html>", content_type="text/html"))
    error = refused("wecom", wecom(robot))
    assert error.retryable is retryable
    assert error.status == status and f"HTTP {status}" in str(error)


def test_non_json_answer_is_refused(robot: RobotServer) -> None:
    robot.replies.append(Reply(raw=b"<html>portal login</html>", content_type="text/html"))
    error = refused("wecom", wecom(robot))
    assert not error.retryable and "not JSON" in str(error)


def test_json_without_errcode_is_refused(robot: RobotServer) -> None:
    robot.replies.append(Reply(json={"ok": True}))
    error = refused("wecom", wecom(robot))
    assert not error.retryable and "errcode" in str(error)


def test_answer_over_64_kb_is_refused(robot: RobotServer) -> None:
    big = json.dumps({"errcode": 0, "errmsg": "x" * (70 * 1024)}).encode()
    robot.replies.append(Reply(raw=big))
    error = refused("wecom", wecom(robot))
    assert not error.retryable and "64 KB" in str(error)


def test_timeout_is_retryable(robot: RobotServer) -> None:
    robot.replies.append(Reply(delay=5.0))
    error = refused("wecom", wecom(robot), timeout=0.3)
    assert error.retryable and "timed out" in str(error)


def test_connection_refused_is_retryable() -> None:
    url = f"http://127.0.0.1:{closed_port()}/cgi-bin/webhook/send?key={WECOM_KEY}"
    error = refused("wecom", {"webhook": url}, timeout=2)
    assert error.retryable and "127.0.0.1" in str(error)


def test_secrets_never_in_messages_even_when_echoed(robot: RobotServer) -> None:
    robot.replies.append(Reply(json={"errcode": 93000,
                                     "errmsg": f"invalid webhook url, key={WECOM_KEY}"}))
    error = refused("wecom", wecom(robot))
    assert "***" in str(error)

    robot.replies.append(Reply(status=500, json={"errcode": -1, "errmsg": f"busy {DING_TOKEN} "
                                                 f"{DING_SECRET}"}))
    error = refused("dingtalk", dingtalk(robot))
    assert error.retryable and "***" in str(error)


def test_redirect_to_another_host_is_not_followed(robot: RobotServer) -> None:
    elsewhere = f"http://localhost:{robot.server_address[1]}/steal?key={WECOM_KEY}"
    robot.replies.append(Reply(status=307, raw=b"", headers={"Location": elsewhere}))
    error = refused("wecom", wecom(robot))
    assert not error.retryable and "another host" in str(error)
    assert len(robot.requests) == 1


def test_redirect_on_the_same_host_reposts(robot: RobotServer) -> None:
    robot.replies.append(Reply(status=308, raw=b"",
                               headers={"Location": f"/v2/send?key={WECOM_KEY}"}))
    send("wecom", wecom(robot), notice())
    first, second = robot.requests
    assert second.path == "/v2/send" and second.query == {"key": [WECOM_KEY]}
    assert second.body == first.body


def test_redirect_with_a_bad_location(robot: RobotServer) -> None:
    robot.replies.append(Reply(status=302, raw=b"", headers={"Location": "http://[oops/"}))
    error = refused("wecom", wecom(robot))
    assert not error.retryable and "Location" in str(error)


def test_redirect_from_https_to_http_is_not_followed(monkeypatch: pytest.MonkeyPatch) -> None:
    """An https webhook never continues over plain http, even on the same host.

    No TLS robot runs here, so the one exchange is faked; the redirect rule is real.
    """
    calls: list[str] = []

    def exchange(opener: Any, url: str, data: bytes, headers: dict[str, str],
                 timeout: float) -> Any:
        calls.append(url)
        return channels._Answer(301, b"", location=url.replace("https://", "http://"))

    monkeypatch.setattr(channels, "_exchange", exchange)
    error = refused("wecom", {"webhook": f"https://qyapi.weixin.qq.com/send?key={WECOM_KEY}"})
    assert not error.retryable and "https to http" in str(error)
    assert len(calls) == 1


def test_redirect_loop_stops(robot: RobotServer) -> None:
    robot.replies.extend(Reply(status=302, raw=b"", headers={"Location": "/again"})
                         for _ in range(10))
    error = refused("wecom", wecom(robot))
    assert not error.retryable and "redirects" in str(error)
    assert len(robot.requests) == channels.MAX_REDIRECTS + 1


# --------------------------------------------------------------------------- 钉钉


def expected_sign(secret: str, timestamp_ms: int) -> str:
    """The signature as 钉钉's documentation computes it, independently of engine.channels."""
    string_to_sign = f"{timestamp_ms}\n{secret}"
    digest = hmac.new(secret.encode(), string_to_sign.encode(), digestmod=hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def test_dingtalk_signature_is_exact(robot: RobotServer) -> None:
    send("dingtalk", dingtalk(robot), notice(), now=lambda: 1772413200.123)

    [seen] = robot.requests
    assert seen.path == "/robot/send"
    raw_sign = expected_sign(DING_SECRET, 1772413200123)
    assert seen.query == {"access_token": [DING_TOKEN], "timestamp": ["1772413200123"],
                          "sign": [raw_sign]}
    # the base64 '+', '/' and '=' travel percent-encoded
    assert seen.raw_query == (f"access_token={DING_TOKEN}&timestamp=1772413200123"
                              f"&sign={urllib.parse.quote_plus(raw_sign)}")
    assert channels.dingtalk_sign(DING_SECRET, 1772413200123) == urllib.parse.quote_plus(raw_sign)


@pytest.mark.parametrize("now, timestamp", [(1_700_000_000.0, 1700000000000),
                                            (1_700_000_000.0005, 1700000000000),
                                            (1_700_000_000.9999, 1700000000999)])
def test_dingtalk_timestamp_is_milliseconds(robot: RobotServer, now: float,
                                            timestamp: int) -> None:
    send("dingtalk", dingtalk(robot, secret="SECshort"), notice(), now=lambda: now)
    query = robot.requests[0].query
    assert abs(int(query["timestamp"][0]) - timestamp) <= 1
    assert query["sign"] == [expected_sign("SECshort", int(query["timestamp"][0]))]


def test_dingtalk_replaces_an_old_signature_in_the_webhook(robot: RobotServer) -> None:
    settings = {"webhook": f"{robot.base}/robot/send?access_token={DING_TOKEN}"
                           f"&timestamp=1&sign=old", "secret": DING_SECRET}
    send("dingtalk", settings, notice(), now=lambda: 1772413200.0)
    query = robot.requests[0].query
    assert query["timestamp"] == ["1772413200000"]
    assert query["sign"] == [expected_sign(DING_SECRET, 1772413200000)]


def test_dingtalk_payload_mentions_the_mobile(robot: RobotServer) -> None:
    send("dingtalk", dingtalk(robot), notice())
    payload = robot.requests[0].json
    assert robot.requests[0].headers["content-type"] == "application/json; charset=utf-8"
    assert payload["msgtype"] == "markdown"
    assert payload["markdown"]["title"] == TITLE
    text = payload["markdown"]["text"]
    assert TITLE in text and "请于今日内完成责任分解。" in text and "如有困难" in text
    assert f"[查看详情]({LINK})" in text
    assert text.endswith("@13800000000")
    assert payload["at"] == {"atMobiles": ["13800000000"], "isAtAll": False}


def test_dingtalk_without_secret_is_not_signed(robot: RobotServer) -> None:
    send("dingtalk", dingtalk(robot, secret=None), notice(recipient_mobile=None, link=None))
    [seen] = robot.requests
    assert seen.query == {"access_token": [DING_TOKEN]}
    payload = seen.json
    assert payload["at"] == {"atMobiles": [], "isAtAll": False}
    assert "@" not in payload["markdown"]["text"] and "查看详情" not in payload["markdown"]["text"]


def test_dingtalk_empty_secret_means_no_signature(robot: RobotServer) -> None:
    send("dingtalk", dingtalk(robot, secret=""), notice())
    assert set(robot.requests[0].query) == {"access_token"}


def test_dingtalk_too_fast_is_retryable(robot: RobotServer) -> None:
    robot.replies.append(Reply(json={"errcode": 130101, "errmsg": "send too fast"}))
    error = refused("dingtalk", dingtalk(robot))
    assert error.retryable and error.errcode == 130101 and error.channel == "dingtalk"


def test_dingtalk_bad_signature_is_not_retryable(robot: RobotServer) -> None:
    robot.replies.append(Reply(json={"errcode": 310000,
                                     "errmsg": f"sign not match, secret {DING_SECRET}"}))
    error = refused("dingtalk", dingtalk(robot))
    assert not error.retryable and "310000" in str(error) and "sign not match" in str(error)


# --------------------------------------------------------------------------- SMTP server


class SMTPServer(socketserver.ThreadingTCPServer):
    """Just enough ESMTP to receive one message, with configurable refusals."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, tls: ssl.SSLContext | None = None, implicit_tls: bool = False) -> None:
        super().__init__(("127.0.0.1", 0), SMTPHandler)
        self.tls = tls
        self.implicit_tls = implicit_tls
        self.greeting = "220 fake.example ESMTP"
        self.greeting_delay = 0.0
        self.users: dict[str, str] = {}
        self.auth_reply = "535 5.7.8 authentication failed"
        self.mail_reply = "250 2.1.0 ok"
        self.rcpt_reply = "250 2.1.5 ok"
        self.data_reply = "250 2.0.0 queued"
        self.messages: list[dict[str, Any]] = []
        self.commands: list[str] = []
        self.release = threading.Event()

    @property
    def port(self) -> int:
        return self.server_address[1]

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # failed handshakes and clients that gave up are expected


class SMTPHandler(socketserver.BaseRequestHandler):
    server: SMTPServer

    def handle(self) -> None:
        srv = self.server
        self.sock: socket.socket = self.request
        self.reader = None
        try:
            if srv.implicit_tls:
                assert srv.tls is not None
                self.sock = srv.tls.wrap_socket(self.request, server_side=True)
            self.reader = self.sock.makefile("rb")
            self.converse()
        finally:
            if self.reader is not None:
                self.reader.close()
            if self.sock is not self.request:
                self.sock.close()

    def say(self, line: str) -> None:
        self.sock.sendall(line.encode("utf-8") + b"\r\n")

    def converse(self) -> None:
        srv = self.server
        if srv.greeting_delay:
            srv.release.wait(srv.greeting_delay)
        self.say(srv.greeting)
        if not srv.greeting.startswith("220"):
            return
        tls_on = srv.implicit_tls
        envelope: dict[str, Any] = {"rcpt": []}
        while True:
            assert self.reader is not None
            line = self.reader.readline()
            if not line:
                return
            command = line.decode("utf-8").rstrip("\r\n")
            verb, _, arg = command.partition(" ")
            verb = verb.upper()
            srv.commands.append(command)
            if verb == "EHLO":
                extensions = ["8BITMIME"]
                if srv.tls is not None and not tls_on:
                    extensions.append("STARTTLS")
                if srv.users:
                    extensions.append("AUTH PLAIN")
                lines = ["fake.example"] + extensions
                for extension in lines[:-1]:
                    self.say(f"250-{extension}")
                self.say(f"250 {lines[-1]}")
            elif verb == "HELO":
                self.say("250 fake.example")
            elif verb == "STARTTLS" and srv.tls is not None and not tls_on:
                self.say("220 2.0.0 ready")
                self.reader.close()
                self.sock = srv.tls.wrap_socket(self.sock, server_side=True)
                self.reader = self.sock.makefile("rb")
                tls_on = True
            elif verb == "AUTH" and arg.upper().startswith("PLAIN "):
                _, user, password = base64.b64decode(arg[6:]).decode("utf-8").split("\0")
                if srv.users.get(user) == password:
                    self.say("235 2.7.0 authenticated")
                else:
                    # a careless server that repeats what it was sent
                    self.say(f"{srv.auth_reply} for {user}/{password} ({arg[6:]})")
            elif verb == "MAIL":
                envelope = {"from": arg.partition(":")[2].strip().split(" ")[0].strip("<>"),
                            "rcpt": []}
                self.say(srv.mail_reply)
            elif verb == "RCPT":
                if srv.rcpt_reply.startswith("2"):
                    envelope["rcpt"].append(arg.partition(":")[2].strip().strip("<>"))
                self.say(srv.rcpt_reply)
            elif verb == "DATA":
                if not envelope["rcpt"]:
                    self.say("503 5.5.1 no valid recipients")
                    continue
                self.say("354 end with <CRLF>.<CRLF>")
                data = bytearray()
                while True:
                    chunk = self.reader.readline()
                    if chunk in (b".\r\n", b""):
                        break
                    data += chunk[1:] if chunk.startswith(b".") else chunk
                if srv.data_reply.startswith("2"):
                    srv.messages.append({**envelope, "data": bytes(data)})
                self.say(srv.data_reply)
            elif verb in ("RSET", "NOOP"):
                self.say("250 2.0.0 ok")
            elif verb == "QUIT":
                self.say("221 2.0.0 bye")
                return
            else:
                self.say("502 5.5.2 not implemented")


@dataclass
class TLSFiles:
    cert: Path
    key: Path

    def server_context(self) -> ssl.SSLContext:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(self.cert, self.key)
        return context

    def client_context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=str(self.cert))


@pytest.fixture(scope="module")
def tls_files(tmp_path_factory: pytest.TempPathFactory) -> TLSFiles:
    """A self-signed certificate for 127.0.0.1, made with the openssl command."""
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("the openssl command is needed to make a test certificate")
    folder = tmp_path_factory.mktemp("tls")
    files = TLSFiles(folder / "cert.pem", folder / "key.pem")
    subprocess.run([openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                    "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                    "-keyout", str(files.key), "-out", str(files.cert)],
                   check=True, capture_output=True)
    return files


def run_smtp(server: SMTPServer) -> Iterator[SMTPServer]:
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                              daemon=True)
    thread.start()
    yield server
    server.release.set()
    server.shutdown()
    server.server_close()
    thread.join(5)


@pytest.fixture
def smtp() -> Iterator[SMTPServer]:
    yield from run_smtp(SMTPServer())


@pytest.fixture
def smtp_starttls(tls_files: TLSFiles) -> Iterator[SMTPServer]:
    yield from run_smtp(SMTPServer(tls=tls_files.server_context()))


@pytest.fixture
def smtp_ssl(tls_files: TLSFiles) -> Iterator[SMTPServer]:
    yield from run_smtp(SMTPServer(tls=tls_files.server_context(), implicit_tls=True))


@pytest.fixture
def trust_test_ca(tls_files: TLSFiles, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(channels, "_tls_context", tls_files.client_context)


def mail(server: SMTPServer, **changes: Any) -> dict[str, Any]:
    settings: dict[str, Any] = {"host": "127.0.0.1", "port": server.port, "security": "none",
                                "from": "督办系统 <duban@example.gov.cn>"}
    settings.update(changes)
    return settings


def received(server: SMTPServer) -> EmailMessage:
    [message] = server.messages
    parsed = email.message_from_bytes(message["data"], policy=email.policy.default)
    assert isinstance(parsed, EmailMessage)
    return parsed


# --------------------------------------------------------------------------- e-mail


def test_email_with_chinese_subject_arrives(smtp: SMTPServer) -> None:
    send("email", mail(smtp), notice(), now=lambda: 1772413200.0)

    [envelope] = smtp.messages
    assert envelope["from"] == "duban@example.gov.cn"
    assert envelope["rcpt"] == ["zhangsan@example.gov.cn"]
    raw = envelope["data"]
    raw.decode("ascii")  # every header and the body are 7-bit on the wire
    assert b"=?utf-8?" in raw.split(b"\r\n\r\n", 1)[0]
    message = received(smtp)
    assert message["Subject"] == TITLE
    assert message["From"].addresses[0].display_name == "督办系统"
    assert message["From"].addresses[0].addr_spec == "duban@example.gov.cn"
    assert message["To"].addresses[0].display_name == "张三"
    assert message["To"].addresses[0].addr_spec == "zhangsan@example.gov.cn"
    assert message.get_content_type() == "text/plain"
    assert message.get_content_charset() == "utf-8"
    assert message["Date"].datetime.timestamp() == 1772413200.0
    content = message.get_content()
    assert "请于今日内完成责任分解。\n如有困难，请联系镇督查室。" in content
    assert LINK in content


def test_email_plain_address_as_sender(smtp: SMTPServer) -> None:
    send("email", mail(smtp, **{"from": "duban@example.gov.cn"}), notice(link=None))
    assert smtp.messages[0]["from"] == "duban@example.gov.cn"
    assert LINK not in received(smtp).get_content()


def test_email_without_address_is_not_retryable(smtp: SMTPServer) -> None:
    error = refused("email", mail(smtp), notice(recipient_email=None))
    assert not error.retryable and "张三" in str(error)
    error = refused("email", mail(smtp), notice(recipient_email="not-an-address"))
    assert not error.retryable
    assert smtp.messages == [] and smtp.commands == []


def test_email_recipient_550_is_not_retryable(smtp: SMTPServer) -> None:
    smtp.rcpt_reply = "550 5.1.1 mailbox unavailable"
    error = refused("email", mail(smtp))
    assert not error.retryable and error.status == 550 and error.channel == "email"
    assert "550" in str(error) and "mailbox unavailable" in str(error)


def test_email_recipient_451_is_retryable(smtp: SMTPServer) -> None:
    smtp.rcpt_reply = "451 4.7.1 greylisted, try later"
    error = refused("email", mail(smtp))
    assert error.retryable and error.status == 451


def test_email_sender_refused(smtp: SMTPServer) -> None:
    smtp.mail_reply = "553 5.7.1 sender not allowed"
    error = refused("email", mail(smtp))
    assert not error.retryable and error.status == 553 and "sender" in str(error)


def test_email_data_refused_554(smtp: SMTPServer) -> None:
    smtp.data_reply = "554 5.7.1 spam"
    error = refused("email", mail(smtp))
    assert not error.retryable and error.status == 554


def test_email_service_not_available_is_retryable(smtp: SMTPServer) -> None:
    smtp.greeting = "421 4.3.2 try again later"
    error = refused("email", mail(smtp))
    assert error.retryable and error.status == 421


def test_email_connection_refused_is_retryable() -> None:
    settings = {"host": "127.0.0.1", "port": closed_port(), "security": "none",
                "from": "duban@example.gov.cn"}
    error = refused("email", settings, timeout=2)
    assert error.retryable


def test_email_silent_server_times_out(smtp: SMTPServer) -> None:
    smtp.greeting_delay = 5.0
    error = refused("email", mail(smtp), timeout=0.3)
    assert error.retryable and "timed out" in str(error)


def test_email_starttls_and_login(smtp_starttls: SMTPServer, trust_test_ca: None) -> None:
    smtp_starttls.users = {"duban": SMTP_PASSWORD}
    send("email", mail(smtp_starttls, security="starttls", username="duban",
                       password=SMTP_PASSWORD), notice())
    assert received(smtp_starttls)["Subject"] == TITLE
    verbs = [c.split(" ")[0].upper() for c in smtp_starttls.commands]
    assert verbs[:4] == ["EHLO", "STARTTLS", "EHLO", "AUTH"]


def test_email_ssl_and_login(smtp_ssl: SMTPServer, trust_test_ca: None) -> None:
    smtp_ssl.users = {"duban": "ascii-only password"}
    send("email", mail(smtp_ssl, security="ssl", username="duban",
                       password="ascii-only password"), notice())
    assert received(smtp_ssl)["Subject"] == TITLE


def test_email_wrong_password_is_not_retryable(smtp_starttls: SMTPServer,
                                               trust_test_ca: None) -> None:
    smtp_starttls.users = {"duban": "the right one"}
    error = refused("email", mail(smtp_starttls, security="starttls", username="duban",
                                  password=SMTP_PASSWORD))
    assert not error.retryable and error.status == 535 and "login" in str(error)
    assert "***" in str(error)  # the server's echo of the password was hidden
    assert smtp_starttls.messages == []


def test_email_temporary_auth_failure_is_retryable(smtp_starttls: SMTPServer,
                                                   trust_test_ca: None) -> None:
    smtp_starttls.users = {"duban": "the right one"}
    smtp_starttls.auth_reply = "454 4.7.0 temporary authentication failure"
    error = refused("email", mail(smtp_starttls, security="starttls", username="duban",
                                  password=SMTP_PASSWORD))
    assert error.retryable and error.status == 454


def test_email_untrusted_certificate_is_not_retryable(smtp_ssl: SMTPServer) -> None:
    error = refused("email", mail(smtp_ssl, security="ssl"))
    assert not error.retryable and "certificate" in str(error)


def test_email_starttls_not_offered_is_not_retryable(smtp: SMTPServer) -> None:
    error = refused("email", mail(smtp, security="starttls"))
    assert not error.retryable and "STARTTLS" in str(error)
    assert smtp.messages == []


# --------------------------------------------------------------------------- settings


GOOD: dict[str, dict[str, Any]] = {
    "email": {"host": "smtp.example.gov.cn", "port": 465, "security": "ssl",
              "username": "duban", "password": "secret", "from": "督办系统 <duban@example.gov.cn>"},
    "wecom": {"webhook": "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=abc"},
    "dingtalk": {"webhook": "https://oapi.dingtalk.com/robot/send?access_token=abc",
                 "secret": "SECabc"},
}


@pytest.mark.parametrize("kind", CHANNEL_KINDS)
def test_good_settings(kind: str) -> None:
    assert validate_settings(kind, GOOD[kind]) == {}


@pytest.mark.parametrize("kind, settings", [
    ("email", {"host": "10.0.0.5", "port": 25, "security": "none", "from": "a@b.cn"}),
    ("email", {"host": "mail", "port": 587, "security": "starttls", "from": "a@b.cn",
               "username": "", "password": ""}),
    ("wecom", {"webhook": "http://127.0.0.1:8080/cgi-bin/webhook/send?key=k"}),
    ("wecom", {"webhook": "HTTPS://robot.internal.example/send"}),
    ("dingtalk", {"webhook": "https://oapi.dingtalk.com/robot/send?access_token=t"}),
    ("dingtalk", {"webhook": "https://oapi.dingtalk.com/robot/send?access_token=t",
                  "secret": None}),
])
def test_other_good_settings(kind: str, settings: dict[str, Any]) -> None:
    assert validate_settings(kind, settings) == {}


def test_unknown_kind() -> None:
    assert set(validate_settings("sms", {})) == {"kind"}
    assert validate_settings("wecom", None) == {  # type: ignore[arg-type]
        "settings": "must be an object"}
    assert validate_settings("wecom", ["webhook"]) == {  # type: ignore[arg-type]
        "settings": "must be an object"}


def test_email_missing_fields() -> None:
    assert set(validate_settings("email", {})) == {"host", "port", "security", "from"}


@pytest.mark.parametrize("port", ["25", 0, 65536, -1, 25.0, True, None])
def test_email_bad_port(port: Any) -> None:
    settings = {**GOOD["email"], "port": port}
    assert set(validate_settings("email", settings)) == {"port"}


@pytest.mark.parametrize("changes, field_name", [
    ({"security": "tls"}, "security"),
    ({"security": ""}, "security"),
    ({"host": "smtp.example.cn\r\nRCPT TO:<x@y>"}, "host"),
    ({"host": "smtp example"}, "host"),
    ({"from": "not an address"}, "from"),
    ({"from": "duban@"}, "from"),
    ({"from": "@example.cn"}, "from"),
    ({"from": "duban@example.cn\nBcc: x@y.cn"}, "from"),
    ({"from": 42}, "from"),
    ({"password": ""}, "password"),
    ({"username": ""}, "username"),
    ({"security": "none"}, "security"),
])
def test_email_bad_fields(changes: dict[str, Any], field_name: str) -> None:
    problems = validate_settings("email", {**GOOD["email"], **changes})
    assert set(problems) == {field_name}, problems


@pytest.mark.parametrize("kind", ["wecom", "dingtalk"])
@pytest.mark.parametrize("webhook, words", [
    (None, "required"),
    ("", "required"),
    (42, "text"),
    ("ftp://qyapi.weixin.qq.com/send?key=k", "http"),
    ("file:///etc/passwd", "http"),
    ("javascript:alert(1)", "http"),
    ("qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k", "http"),
    ("https://user:pass@qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k", "user name"),
    ("https://token@oapi.dingtalk.com/robot/send", "user name"),
    ("https:///cgi-bin/webhook/send?key=k", "host"),
    ("https://qyapi.weixin.qq.com:99999/send", "port"),
    ("https://qyapi.weixin.qq.com/send?key=a b", "spaces"),
    ("https://qyapi.weixin.qq.com/send?key=k\n", "control"),
    ("https://[qyapi.weixin.qq.com/send", "valid URL"),
])
def test_bad_webhooks(kind: str, webhook: Any, words: str) -> None:
    problems = validate_settings(kind, {"webhook": webhook})
    assert set(problems) == {"webhook"}
    assert words in problems["webhook"]


@pytest.mark.parametrize("secret", ["abc", 42, "SEC abc", "sec123"])
def test_dingtalk_bad_secret(secret: Any) -> None:
    problems = validate_settings("dingtalk", {**GOOD["dingtalk"], "secret": secret})
    assert set(problems) == {"secret"}


def test_send_refuses_invalid_settings_without_echoing_them(robot: RobotServer) -> None:
    error = refused("email", {**GOOD["email"], "port": "x", "password": SMTP_PASSWORD})
    assert not error.retryable and "port" in str(error)
    error = refused("wecom", {"webhook": f"ftp://h/?key={WECOM_KEY}"})
    assert not error.retryable and "webhook" in str(error)
    error = refused("dingtalk", {**dingtalk(robot), "secret": DING_SECRET[3:]})
    assert not error.retryable and "secret" in str(error)
    error = refused("fax", {})
    assert not error.retryable
    assert robot.requests == []
