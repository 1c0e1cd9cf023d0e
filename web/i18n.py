"""Languages and local time for the pages: Chinese by default, English switchable.

Source strings are English (``_("Inbox")``); each package under ``web/`` keeps
its own ``translations/<locale>/LC_MESSAGES/messages.po`` and Flask-Babel
merges them. The Chinese catalogues live under ``zh``: Babel reads the
locale ``zh_CN`` as ``zh_Hans_CN``, whose gettext fallback is ``zh``. ``python -m web.i18n compile`` builds the ``.mo`` files (the
set-up scripts run it); ``python -m web.i18n missing`` lists strings the
Chinese catalogues lack (a test runs the same check).
"""
from __future__ import annotations

import sys
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from flask import Flask, session
from flask_babel import Babel, format_date, format_datetime, get_locale

WEB = Path(__file__).resolve().parent
LANGUAGES = {"zh_CN": "中文", "en": "English"}
DEFAULT_LOCALE = "zh_CN"


def catalogue_dirs() -> list[Path]:
    return sorted(p for p in WEB.rglob("translations") if p.is_dir())


def select_locale() -> str:
    lang = session.get("lang")
    return lang if lang in LANGUAGES else DEFAULT_LOCALE


def init_app(app: Flask, timezone: str) -> None:
    app.config.setdefault("BABEL_DEFAULT_LOCALE", DEFAULT_LOCALE)
    app.config.setdefault("BABEL_DEFAULT_TIMEZONE", timezone)
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = ";".join(str(p) for p in catalogue_dirs())
    Babel(app, locale_selector=select_locale)
    zone = ZoneInfo(timezone)

    def local(value: datetime | None, fmt: str = "yyyy-MM-dd HH:mm") -> str:
        """A stored UTC moment in the configured zone ('' for None)."""
        if value is None:
            return ""
        if isinstance(value, datetime):
            return format_datetime(value, fmt)
        return format_date(value, "yyyy-MM-dd")

    def local_date(value: datetime | date | None) -> str:
        if value is None:
            return ""
        if isinstance(value, datetime):
            return format_datetime(value, "yyyy-MM-dd")
        return format_date(value, "yyyy-MM-dd")

    def html_lang() -> str:
        locale = get_locale()
        return "zh-CN" if locale is not None and locale.language == "zh" else "en"

    app.jinja_env.filters["local"] = local
    app.jinja_env.filters["local_date"] = local_date
    app.jinja_env.globals.update(LANGUAGES=LANGUAGES, html_lang=html_lang, TIMEZONE=zone)


# -- catalogue tools ----------------------------------------------------------
def compile_all() -> int:
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    count = 0
    for po in WEB.rglob("translations/*/LC_MESSAGES/messages.po"):
        with po.open("rb") as f:
            catalog = read_po(f)
        with po.with_suffix(".mo").open("wb") as f:
            write_mo(f, catalog)
        count += 1
    return count


def extract_msgids() -> dict[str, list[str]]:
    """Every translatable string in web/ (Python and templates) → where it is."""
    from babel.messages.extract import extract_from_dir

    method_map = [("**/templates/**.html", "jinja2"), ("**.py", "python")]
    options = {"**/templates/**.html": {"extensions": "jinja2.ext.do"}}
    found: dict[str, list[str]] = {}
    for filename, lineno, message, _comments, _context in extract_from_dir(
            str(WEB), method_map, options_map=options):
        msgid = message if isinstance(message, str) else message[0]
        found.setdefault(msgid, []).append(f"web/{filename}:{lineno}")
    return found


def translated(locale: str = "zh") -> dict[str, str]:
    from babel.messages.pofile import read_po

    out: dict[str, str] = {}
    for po in WEB.rglob(f"translations/{locale}/LC_MESSAGES/messages.po"):
        with po.open("rb") as f:
            for message in read_po(f):
                if message.id and message.string:
                    out[message.id if isinstance(message.id, str) else message.id[0]] = (
                        message.string if isinstance(message.string, str) else message.string[0])
    return out


def missing(locale: str = "zh") -> dict[str, list[str]]:
    have = translated(locale)
    return {m: where for m, where in extract_msgids().items() if m not in have}


def main(argv: list[str]) -> int:
    if argv[:1] == ["compile"]:
        compile_all()
        return 0
    if argv[:1] == ["missing"]:
        gaps = missing()
        for msgid, where in sorted(gaps.items()):
            print(f"{where[0]}: {msgid!r}")
        return 1 if gaps else 0
    print("usage: python -m web.i18n compile|missing", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
