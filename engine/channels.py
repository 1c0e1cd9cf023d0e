"""Delivering one notice through one extra channel: e-mail, 企业微信 or 钉钉.

In-app notices are rows the engine writes itself; an organisation may also
configure extra channels so that offices see notices in the apps they live in.
A background job calls :func:`send` once per notice and channel after the
commit, and retries when the :class:`DeliveryError` it gets says
``retryable``. This module knows nothing of jobs, rows or organisations::

    problems = validate_settings("wecom", {"webhook": url})   # {} when valid
    send("wecom", {"webhook": url}, Notice(title=..., body=..., kind="overdue",
                                           recipient_name="张三"))

Only the standard library is used (``smtplib`` and ``urllib.request``).

Secrets (the webhook's access token or key, the DingTalk ``secret``, the SMTP
password) never appear in an error message, and no error keeps the library
exception that could carry them as its cause.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import http.client
import json
import re
import smtplib
import ssl
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import formatdate, make_msgid, parseaddr
from typing import Any, NoReturn

__all__ = ["CHANNEL_KINDS", "DeliveryError", "Notice", "send", "validate_settings"]

#: the kinds of extra channel an organisation may configure
CHANNEL_KINDS = ("email", "wecom", "dingtalk")

#: SMTP security modes: plain, upgraded with STARTTLS, or TLS from the first byte
EMAIL_SECURITY = ("none", "starttls", "ssl")

#: the most of a robot's answer that is read; a longer answer is refused
MAX_ANSWER_BYTES = 64 * 1024

#: 企业微信 refuses markdown content longer than this many UTF-8 bytes
WECOM_MAX_CONTENT_BYTES = 4096

#: 钉钉 documents no exact limit; notices are kept well below what it accepts
DINGTALK_MAX_TEXT_BYTES = 16000

#: same-host redirects followed at most (each re-sends the same POST)
MAX_REDIRECTS = 3

#: robot errcodes that mean "slow down and try again", with a suggested wait in seconds
_RETRYABLE_ERRCODES: dict[str, dict[int, float | None]] = {
    # -1 系统繁忙; 45009 接口调用超过限制 (20 messages a minute per robot)
    "wecom": {-1: None, 45009: 60.0},
    # -1 系统繁忙; 130101 发送速度太快而限流 (20 messages a minute per robot)
    "dingtalk": {-1: None, 130101: 60.0},
}

_USER_AGENT = "duban-notify/1"
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


@dataclass(frozen=True)
class Notice:
    """One notice for one person, as every channel renders it.

    :ivar title: one line, e.g. ``【督办】问题整改：责任分解已超期 2 个工作日``.
    :ivar body: plain text; may contain newlines.
    :ivar kind: ``remind``, ``overdue``, ``urge``, ``escalate`` or ``info``.
    :ivar recipient_name: the person's name, e.g. ``张三``.
    :ivar recipient_email: where the e-mail channel sends it; required there.
    :ivar recipient_mobile: mobile number @-mentioned by the 钉钉 robot.
    :ivar link: absolute URL of the task page, when known.
    """

    title: str
    body: str
    kind: str
    recipient_name: str
    recipient_email: str | None = None
    recipient_mobile: str | None = None
    link: str | None = None


class DeliveryError(Exception):
    """A notice could not be delivered through a channel.

    The message says what failed (HTTP status, the robot's errcode and errmsg,
    the SMTP reply) and never contains a secret.

    :ivar retryable: ``True`` when trying the same delivery later may succeed
        (timeouts, connection errors, HTTP 5xx, SMTP 4xx, rate limits);
        ``False`` when it cannot succeed until the settings or the notice change.
    :ivar channel: the channel kind, when known.
    :ivar status: the HTTP status or SMTP reply code, when there was one.
    :ivar errcode: the robot's ``errcode``, when it answered one.
    :ivar retry_after: a suggested wait in seconds before the next try, when known.
    """

    def __init__(self, message: str, *, retryable: bool, channel: str | None = None,
                 status: int | None = None, errcode: int | None = None,
                 retry_after: float | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.retryable = retryable
        self.channel = channel
        self.status = status
        self.errcode = errcode
        self.retry_after = retry_after

    def __str__(self) -> str:
        return self.message


# --------------------------------------------------------------------------- settings


def validate_settings(kind: str, settings: Mapping[str, Any]) -> dict[str, str]:
    """Check one channel's settings.

    :param kind: one of :data:`CHANNEL_KINDS`.
    :param settings: the settings as stored (a JSON object).
    :returns: field name → problem; empty when the settings are valid. Keys not
        used by the channel are ignored.
    """
    if kind not in CHANNEL_KINDS:
        return {"kind": f"unknown channel kind {kind!r}; expected one of "
                        + ", ".join(CHANNEL_KINDS)}
    if not isinstance(settings, Mapping):
        return {"settings": "must be an object"}
    if kind == "email":
        return _validate_email(settings)
    problems: dict[str, str] = {}
    webhook_problem = _webhook_problem(settings.get("webhook"))
    if webhook_problem:
        problems["webhook"] = webhook_problem
    if kind == "dingtalk":
        secret = settings.get("secret")
        if secret not in (None, ""):
            if not isinstance(secret, str):
                problems["secret"] = "must be text"
            elif not secret.startswith("SEC"):
                problems["secret"] = "a 钉钉 robot secret starts with SEC"
            elif re.search(r"\s", secret) or _CONTROL.search(secret):
                problems["secret"] = "must not contain spaces or control characters"
    return problems


def _text_problem(value: Any, *, required: bool = True) -> str | None:
    if value is None or value == "":
        return "is required" if required else None
    if not isinstance(value, str):
        return "must be text"
    if _CONTROL.search(value):
        return "must not contain control characters or line breaks"
    return None


def _validate_email(settings: Mapping[str, Any]) -> dict[str, str]:
    problems: dict[str, str] = {}
    host = settings.get("host")
    problem = _text_problem(host)
    if problem is None and isinstance(host, str) \
            and (re.search(r"\s", host) or "/" in host or "@" in host):
        problem = "must be a host name or IP address"
    if problem:
        problems["host"] = problem

    port = settings.get("port")
    if port is None or port == "":
        problems["port"] = "is required"
    elif isinstance(port, bool) or not isinstance(port, int):
        problems["port"] = "must be a whole number"
    elif not 1 <= port <= 65535:
        problems["port"] = "must be between 1 and 65535"

    security = settings.get("security")
    if security is None or security == "":
        problems["security"] = "is required: " + ", ".join(EMAIL_SECURITY)
    elif security not in EMAIL_SECURITY:
        problems["security"] = "must be one of " + ", ".join(EMAIL_SECURITY)

    username, password = settings.get("username"), settings.get("password")
    problem = _text_problem(username, required=False)
    if problem:
        problems["username"] = problem
    if password not in (None, "") and not isinstance(password, str):
        problems["password"] = "must be text"
    elif username not in (None, "") and password in (None, ""):
        problems["password"] = "is required when a username is set"
    elif password not in (None, "") and username in (None, ""):
        problems["username"] = "is required when a password is set"
    elif username not in (None, "") and security == "none":
        problems["security"] = "a password is never sent unencrypted: use starttls or ssl"

    sender = settings.get("from")
    problem = _text_problem(sender)
    if problem is None and isinstance(sender, str) and _parse_address(sender) is None:
        problem = "must be an e-mail address, e.g. 督办系统 <duban@example.gov.cn>"
    if problem:
        problems["from"] = problem
    return problems


def _parse_address(value: str) -> Address | None:
    """``'名字 <a@b.cn>'`` or ``'a@b.cn'`` → an :class:`Address`; ``None`` when invalid."""
    if _CONTROL.search(value):
        return None
    name, addr = parseaddr(value)
    local, at, domain = addr.rpartition("@")
    if not at or not local or not domain or re.search(r"[\s<>()\[\],;:\"]", domain):
        return None
    try:
        return Address(display_name=name, addr_spec=addr)
    except (ValueError, IndexError, TypeError):
        return None


def _webhook_problem(value: Any) -> str | None:
    problem = _text_problem(value)
    if problem:
        return problem
    if re.search(r"\s", value):
        return "must not contain spaces"
    try:
        parts = urllib.parse.urlsplit(value)
    except ValueError:
        return "is not a valid URL"
    if parts.scheme.lower() not in ("http", "https"):
        return "must be an http or https URL"
    if parts.username is not None or parts.password is not None or "@" in parts.netloc:
        return "must not contain a user name or password"
    if not parts.hostname:
        return "must name a host"
    try:
        parts.port
    except ValueError:
        return "has an invalid port"
    return None


# --------------------------------------------------------------------------- send


def send(kind: str, settings: Mapping[str, Any], notice: Notice, *, timeout: float = 10.0,
         now: Callable[[], float] = time.time) -> None:
    """Deliver one notice through one channel.

    :param kind: one of :data:`CHANNEL_KINDS`.
    :param settings: the channel's settings (see :func:`validate_settings`).
    :param notice: what to deliver, and to whom.
    :param timeout: seconds allowed for each network operation.
    :param now: the clock, in seconds since the epoch (signs 钉钉 requests, dates e-mail).
    :raises DeliveryError: when the notice was not delivered; ``retryable``
        says whether trying again later may help. Invalid settings are not.
    """
    problems = validate_settings(kind, settings)
    if problems:
        raise DeliveryError(
            f"{kind}: invalid settings: "
            + "; ".join(f"{field}: {problem}" for field, problem in problems.items()),
            retryable=False, channel=kind if kind in CHANNEL_KINDS else None)
    if kind == "email":
        _send_email(settings, notice, timeout=timeout, now=now)
    elif kind == "wecom":
        _send_wecom(settings, notice, timeout=timeout)
    else:
        _send_dingtalk(settings, notice, timeout=timeout, now=now)


def _one_line(text: str) -> str:
    return " ".join(_CONTROL.sub(" ", text).split())


def _plain_body(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n").strip("\n")


def _safe_link(link: str | None) -> str | None:
    """The link when it is an absolute http(s) URL, quoted so it cannot break markdown."""
    if not link:
        return None
    link = link.strip()
    try:
        parts = urllib.parse.urlsplit(link)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        return None
    return urllib.parse.quote(link, safe=":/?#[]@!$&'*+,;=%~")


def _fit_utf8(head: str, body: str, tail: str, limit: int) -> str:
    """``head + body + tail``, the body shortened (with …) to fit ``limit`` UTF-8 bytes."""
    whole = head + body + tail
    if len(whole.encode("utf-8")) <= limit:
        return whole
    room = limit - len((head + tail).encode("utf-8")) - len("…".encode("utf-8"))
    if room <= 0:
        return whole.encode("utf-8")[:limit].decode("utf-8", "ignore")
    cut = body.encode("utf-8")[:room].decode("utf-8", "ignore")
    return head + cut + "…" + tail


# ............................................................................ robots


def _wecom_markdown(notice: Notice) -> str:
    head = f"**{_one_line(notice.title)}**\n"
    link = _safe_link(notice.link)
    tail = f"\n[查看详情]({link})" if link else ""
    return _fit_utf8(head, _plain_body(notice.body), tail, WECOM_MAX_CONTENT_BYTES)


def _send_wecom(settings: Mapping[str, Any], notice: Notice, *, timeout: float) -> None:
    payload = {"msgtype": "markdown", "markdown": {"content": _wecom_markdown(notice)}}
    webhook: str = settings["webhook"]
    _post_robot("wecom", webhook, payload, timeout=timeout, secrets=_url_secrets(webhook))


def _mobile(notice: Notice) -> str | None:
    mobile = (notice.recipient_mobile or "").strip()
    return mobile if re.fullmatch(r"\+?[0-9][0-9-]{4,19}", mobile) else None


def _dingtalk_markdown(notice: Notice) -> str:
    head = f"#### {_one_line(notice.title)}\n\n"
    # 钉钉's markdown joins single line breaks; a blank line keeps each line apart
    body = "\n\n".join(_plain_body(notice.body).split("\n"))
    tail = ""
    link = _safe_link(notice.link)
    if link:
        tail += f"\n\n[查看详情]({link})"
    mobile = _mobile(notice)
    if mobile:
        # the @ is shown (and highlighted) only when the number is in the text too
        tail += f"\n\n@{mobile}"
    return _fit_utf8(head, body, tail, DINGTALK_MAX_TEXT_BYTES)


def dingtalk_sign(secret: str, timestamp_ms: int) -> str:
    """The ``sign`` query value of a 钉钉 robot request (already URL-quoted).

    :param secret: the robot's ``SEC…`` secret.
    :param timestamp_ms: the ``timestamp`` sent alongside, in milliseconds.
    """
    to_sign = f"{timestamp_ms}\n{secret}".encode("utf-8")
    digest = hmac.new(secret.encode("utf-8"), to_sign, hashlib.sha256).digest()
    return urllib.parse.quote(base64.b64encode(digest).decode("ascii"), safe="")


def _signed_url(webhook: str, secret: str, now: Callable[[], float]) -> str:
    timestamp = round(now() * 1000)
    parts = urllib.parse.urlsplit(webhook)
    # a webhook pasted with an old signature keeps only its other parameters
    kept = [(k, v) for k, v in urllib.parse.parse_qsl(parts.query, keep_blank_values=True)
            if k not in ("timestamp", "sign")]
    query = urllib.parse.urlencode(kept)
    signature = f"timestamp={timestamp}&sign={dingtalk_sign(secret, timestamp)}"
    query = f"{query}&{signature}" if query else signature
    return urllib.parse.urlunsplit(parts._replace(query=query))


def _send_dingtalk(settings: Mapping[str, Any], notice: Notice, *, timeout: float,
                   now: Callable[[], float]) -> None:
    mobile = _mobile(notice)
    payload = {
        "msgtype": "markdown",
        "markdown": {"title": _one_line(notice.title), "text": _dingtalk_markdown(notice)},
        "at": {"atMobiles": [mobile] if mobile else [], "isAtAll": False},
    }
    webhook: str = settings["webhook"]
    secrets = _url_secrets(webhook)
    secret = settings.get("secret") or None
    url = webhook
    if secret:
        secrets.append(secret)
        url = _signed_url(webhook, secret, now)
        secrets.extend(_url_secrets(url))
    _post_robot("dingtalk", url, payload, timeout=timeout, secrets=secrets)


def _url_secrets(url: str) -> list[str]:
    """Every part of a webhook URL that may be a credential."""
    parts = urllib.parse.urlsplit(url)
    found = [url, parts.query]
    for _, value in urllib.parse.parse_qsl(parts.query, keep_blank_values=True):
        found += [value, urllib.parse.quote(value, safe=""), urllib.parse.quote_plus(value)]
    return found


def _scrub(text: str, secrets: list[str]) -> str:
    """``text`` with every secret replaced by ``***``; long texts shortened."""
    for secret in sorted({s for s in secrets if s and len(s) >= 4}, key=len, reverse=True):
        text = text.replace(secret, "***")
    text = _one_line(text)
    return text if len(text) <= 300 else text[:300] + "…"


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """Leaves every redirect to :func:`_post_robot`, which checks the new host."""

    def http_error_302(self, req: urllib.request.Request, fp: Any, code: int, msg: str,
                       headers: Any) -> None:
        return None  # the default handler then raises HTTPError, which carries the answer

    http_error_301 = http_error_303 = http_error_307 = http_error_308 = http_error_302


def _where(url: str) -> str:
    """The host (and port) of a URL: all an error message may say about it."""
    parts = urllib.parse.urlsplit(url)
    host = parts.hostname or "?"
    try:
        port = parts.port
    except ValueError:
        port = None
    return f"{host}:{port}" if port else host


class _TooLong(Exception):
    pass


def _read_capped(response: Any) -> bytes:
    data: bytes = response.read(MAX_ANSWER_BYTES + 1)
    if len(data) > MAX_ANSWER_BYTES:
        raise _TooLong()
    return data


def _retry_after(headers: Any) -> float | None:
    value = headers.get("Retry-After") if headers is not None else None
    if value and value.strip().isdigit():
        return float(value.strip())
    return None


@dataclass
class _Answer:
    status: int
    body: bytes
    content_type: str = ""
    location: str | None = None
    retry_after: float | None = None


def _exchange(opener: urllib.request.OpenerDirector, url: str, data: bytes,
              headers: dict[str, str], timeout: float) -> _Answer | tuple[str, bool]:
    """One POST; the answer, or ``(what failed, retryable)`` when there was none.

    Nothing raised by :mod:`urllib` leaves this function: its exceptions carry
    the URL, and with it the robot's access token.
    """
    where = _where(url)
    request = urllib.request.Request(url, data=data, headers=headers, method="POST")
    try:
        try:
            response = opener.open(request, timeout=timeout)
        except urllib.error.HTTPError as err:
            with err:
                answer = _Answer(err.code, b"")
                if err.headers is not None:
                    answer.location = err.headers.get("Location")
                    answer.retry_after = _retry_after(err.headers)
                    answer.content_type = err.headers.get_content_type()
                try:
                    answer.body = _read_capped(err)
                except (_TooLong, OSError, http.client.HTTPException):
                    pass
                return answer
        with response:
            return _Answer(response.status, _read_capped(response),
                           response.headers.get_content_type())
    except _TooLong:
        return f"the answer of {where} is longer than {MAX_ANSWER_BYTES // 1024} KB", False
    except urllib.error.URLError as err:
        reason = err.reason
        if isinstance(reason, ssl.SSLCertVerificationError):
            return f"TLS certificate of {where} refused: {reason.verify_message}", False
        if isinstance(reason, TimeoutError):
            return f"timed out after {timeout:g} s connecting to {where}", True
        return f"cannot connect to {where}: {_describe(reason)}", True
    except TimeoutError:
        return f"timed out after {timeout:g} s waiting for {where}", True
    except (OSError, http.client.HTTPException) as err:
        return f"connection to {where} failed: {_describe(err)}", True
    except ValueError as err:
        return f"cannot talk to {where}: {_describe(err)}", False


def _post_robot(channel: str, url: str, payload: dict[str, Any], *, timeout: float,
                secrets: list[str]) -> None:
    """POST ``payload`` as JSON to a group robot and check its ``errcode``.

    Redirects are followed only to the same host, never from https to http,
    and at most :data:`MAX_REDIRECTS` times; each re-sends the same POST.
    """
    data = json.dumps(payload, ensure_ascii=False).encode("utf-8")
    headers = {"Content-Type": "application/json; charset=utf-8", "User-Agent": _USER_AGENT,
               "Accept": "application/json"}
    # built per call: the proxy settings are read from the environment now
    opener = urllib.request.build_opener(_NoRedirect)

    def fail(message: str, *, retryable: bool, status: int | None = None,
             errcode: int | None = None, retry_after: float | None = None) -> NoReturn:
        raise DeliveryError(_scrub(f"{channel}: {message}", secrets), retryable=retryable,
                            channel=channel, status=status, errcode=errcode,
                            retry_after=retry_after)

    first = urllib.parse.urlsplit(url)
    redirects = 0
    while True:
        where = _where(url)
        answer = _exchange(opener, url, data, headers, timeout)
        if isinstance(answer, tuple):
            fail(answer[0], retryable=answer[1])
        status = answer.status
        if status not in (300, 304) and 300 <= status < 400:
            if not answer.location:
                fail(f"HTTP {status} from {where} without a Location", retryable=False,
                     status=status)
            try:
                target = urllib.parse.urljoin(url, answer.location)
                moved = urllib.parse.urlsplit(target)
            except ValueError:
                target = ""
            if not target:
                fail(f"HTTP {status} from {where} with an invalid Location", retryable=False,
                     status=status)
            if moved.scheme.lower() not in ("http", "https") \
                    or (moved.hostname or "").lower() != (first.hostname or "").lower():
                fail(f"HTTP {status} from {where} redirects to another host "
                     f"({moved.hostname or '?'}); not followed", retryable=False, status=status)
            if first.scheme.lower() == "https" and moved.scheme.lower() != "https":
                fail(f"HTTP {status} from {where} redirects from https to http; not followed",
                     retryable=False, status=status)
            redirects += 1
            if redirects > MAX_REDIRECTS:
                fail(f"more than {MAX_REDIRECTS} redirects from {where}", retryable=False,
                     status=status)
            secrets.extend(_url_secrets(target))
            url = target
            continue
        break

    parsed: Any = None
    try:
        parsed = json.loads(answer.body) if answer.body else None
    except (ValueError, RecursionError):
        parsed = None
    errcode, errmsg = _errcode(parsed)

    if status != 200:
        detail = f" (errcode {errcode}: {errmsg})" if errcode is not None else ""
        retryable = status >= 500 or status in (408, 429)
        fail(f"HTTP {status} from {where}{detail}", retryable=retryable, status=status,
             errcode=errcode, retry_after=answer.retry_after)
    if not isinstance(parsed, dict):
        fail(f"the answer of {where} is not JSON (HTTP 200, "
             f"{answer.content_type or 'no content type'})", retryable=False, status=status)
    if errcode is None:
        fail(f"the answer of {where} has no errcode", retryable=False, status=status)
    if errcode != 0:
        known = _RETRYABLE_ERRCODES[channel]
        fail(f"errcode {errcode} from {where}: {errmsg}", retryable=errcode in known,
             status=status, errcode=errcode, retry_after=known.get(errcode))


def _errcode(answer: Any) -> tuple[int | None, str]:
    if not isinstance(answer, dict) or "errcode" not in answer:
        return None, ""
    code = answer["errcode"]
    if isinstance(code, bool):
        return None, ""
    if isinstance(code, str) and re.fullmatch(r"-?\d+", code.strip()):
        code = int(code)
    if not isinstance(code, int):
        return None, ""
    return code, str(answer.get("errmsg", ""))


def _describe(err: BaseException | str | None) -> str:
    if err is None:
        return "unknown error"
    if isinstance(err, str):
        return err
    text = str(err)
    return f"{type(err).__name__}: {text}" if text else type(err).__name__


# ............................................................................ e-mail


def _build_email(notice: Notice, sender: Address,
                 recipient: Address, now: Callable[[], float]) -> EmailMessage:
    message = EmailMessage()
    message["Subject"] = _one_line(notice.title)
    message["From"] = sender
    message["To"] = recipient
    message["Date"] = formatdate(now(), localtime=True)
    message["Message-ID"] = make_msgid("duban", domain=sender.domain or "localhost")
    message["Auto-Submitted"] = "auto-generated"
    message["X-Duban-Kind"] = _one_line(notice.kind)[:40] or "info"
    text = _plain_body(notice.body)
    link = _safe_link(notice.link)
    if link:
        text += f"\n\n查看详情：{link}"
    greeting = f"{_one_line(notice.recipient_name)}：\n\n"
    message.set_content(f"{greeting}{text}\n", charset="utf-8", cte="base64")
    return message


def _reply_text(reply: bytes | str) -> str:
    return reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)


def _smtp_code(code: Any) -> int | None:
    return code if isinstance(code, int) and not isinstance(code, bool) and code > 0 else None


def _quit(client: smtplib.SMTP) -> None:
    """Say QUIT and close; a failure here cannot undo a message already accepted."""
    try:
        client.quit()
    except (smtplib.SMTPException, OSError):
        pass
    finally:
        client.close()


def _tls_context() -> ssl.SSLContext:
    """The TLS settings of SMTP connections: the system's CAs, host names checked."""
    return ssl.create_default_context()


def _login(client: smtplib.SMTP, username: str, password: str) -> None:
    """Log in; credentials beyond ASCII (which :mod:`smtplib` cannot send) use AUTH PLAIN."""
    if (username + password).isascii():
        client.login(username, password)
        return
    client.ehlo_or_helo_if_needed()
    if "PLAIN" not in client.esmtp_features.get("auth", "").upper().split():
        raise smtplib.SMTPNotSupportedError(
            "AUTH PLAIN, needed for a user name or password beyond ASCII")
    token = base64.b64encode(f"\0{username}\0{password}".encode("utf-8")).decode("ascii")
    code, reply = client.docmd("AUTH", "PLAIN " + token)
    if code != 235:
        raise smtplib.SMTPAuthenticationError(code, reply)


def _smtp_exchange(settings: Mapping[str, Any], message: EmailMessage, sender: str,
                   recipient: str, timeout: float) -> tuple[str, bool, int | None] | None:
    """Send one message; ``None`` on success, else ``(what failed, retryable, code)``.

    Nothing raised by :mod:`smtplib` leaves this function.
    """
    host: str = settings["host"]
    port: int = settings["port"]
    security: str = settings["security"]
    username: str = settings.get("username") or ""
    password: str = settings.get("password") or ""
    where = f"{host}:{port}"
    step = "the greeting"
    try:
        context = _tls_context() if security != "none" else None
        client: smtplib.SMTP
        if security == "ssl":
            client = smtplib.SMTP_SSL(host, port, timeout=timeout, context=context)
        else:
            client = smtplib.SMTP(host, port, timeout=timeout)
        try:
            step = "EHLO"
            client.ehlo_or_helo_if_needed()
            if security == "starttls":
                step = "STARTTLS"
                client.starttls(context=context)
                client.ehlo()
            if username:
                step = "login"
                _login(client, username, password)
            step = "sending"
            client.send_message(message, from_addr=sender, to_addrs=[recipient])
        finally:
            _quit(client)
    except smtplib.SMTPRecipientsRefused as err:
        raw_code, reply = next(iter(err.recipients.values()), (0, b""))
        rcpt_code = _smtp_code(raw_code)
        return (f"{where} refused the recipient: {rcpt_code} {_reply_text(reply)}",
                rcpt_code is not None and 400 <= rcpt_code < 500, rcpt_code)
    except smtplib.SMTPNotSupportedError as err:
        return f"{where} does not support {step}: {err}", False, None
    except smtplib.SMTPResponseException as err:
        # SMTPAuthenticationError, SMTPSenderRefused, SMTPDataError, SMTPConnectError, ...
        # 4xx is temporary (454 at login too); 5xx needs new settings or a new address
        code = _smtp_code(err.smtp_code)
        what = {smtplib.SMTPAuthenticationError: "login",
                smtplib.SMTPConnectError: "the connection",
                smtplib.SMTPSenderRefused: "the sender",
                smtplib.SMTPDataError: "the message"}.get(type(err), step)
        return (f"{where} refused {what}: {code} {_reply_text(err.smtp_error)}",
                code is not None and 400 <= code < 500, code)
    except smtplib.SMTPServerDisconnected as err:
        if isinstance(err.__context__, TimeoutError):  # smtplib's wrapping of a timeout
            return f"timed out after {timeout:g} s during {step} with {where}", True, None
        return f"{where} closed the connection during {step}: {err}", True, None
    except ssl.SSLCertVerificationError as err:
        return f"TLS certificate of {where} refused: {err.verify_message}", False, None
    except TimeoutError:
        return f"timed out after {timeout:g} s during {step} with {where}", True, None
    except (OSError, smtplib.SMTPException) as err:
        return f"connection to {where} failed during {step}: {_describe(err)}", True, None
    except UnicodeError as err:
        # a non-ASCII address to a server without SMTPUTF8, for example
        return f"cannot encode the message for {where}: {_describe(err)}", False, None
    return None


def _send_email(settings: Mapping[str, Any], notice: Notice, *, timeout: float,
                now: Callable[[], float]) -> None:
    password: str = settings.get("password") or ""
    username: str = settings.get("username") or ""
    # the password, and the AUTH PLAIN / LOGIN forms a server might echo back
    secrets = [password, base64.b64encode(password.encode("utf-8")).decode("ascii"),
               base64.b64encode(f"\0{username}\0{password}".encode("utf-8")).decode("ascii")]
    if not notice.recipient_email:
        raise DeliveryError(f"email: {notice.recipient_name} has no e-mail address",
                            retryable=False, channel="email")
    parsed = _parse_address(notice.recipient_email)
    if parsed is None:
        raise DeliveryError(f"email: the e-mail address of {notice.recipient_name} is invalid",
                            retryable=False, channel="email")
    sender = _parse_address(settings["from"])
    if sender is None:  # pragma: no cover - refused by validate_settings
        raise DeliveryError("email: invalid sender", retryable=False, channel="email")
    recipient = Address(display_name=_one_line(notice.recipient_name),
                        addr_spec=parsed.addr_spec)
    message = _build_email(notice, sender, recipient, now)
    failure = _smtp_exchange(settings, message, sender.addr_spec, recipient.addr_spec, timeout)
    if failure is not None:
        text, retryable, code = failure
        raise DeliveryError(_scrub(f"email: {text}", secrets), retryable=retryable,
                            channel="email", status=code)
