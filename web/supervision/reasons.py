"""The engine's reasons for refusing a filter or an imported row, in the reader's language.

The engine explains a ``ValidationError`` in English, per field; these patterns
turn the ones a supervisor meets into whole sentences that are translated. A
reason no pattern knows is shown as the engine wrote it.
"""
from __future__ import annotations

import re
from typing import Callable

from flask_babel import gettext as _

_PATTERNS: list[tuple[re.Pattern[str], Callable[[re.Match[str]], str]]] = [
    (re.compile(r"^is required$"), lambda m: _("Required.")),
    (re.compile(r"^(.+) is on the ledger already"),
     lambda m: _("%(number)s is on the ledger already; leave 编号 empty for a new problem.",
                 number=m.group(1))),
    (re.compile(r"^only problems"), lambda m: _("Only problems (问题) can be imported.")),
    (re.compile(r"^must be at most (\d+) characters"),
     lambda m: _("At most %(count)s characters.", count=m.group(1))),
    (re.compile(r"^at most (\d+) characters"),
     lambda m: _("At most %(count)s characters.", count=m.group(1))),
    (re.compile(r"^must be one of (.+?)(?: \(- for descending\))?$"),
     lambda m: _("Must be one of: %(values)s.", values=m.group(1))),
    (re.compile(r"^no organisation (.+) that you may see$"),
     lambda m: _("No organisation %(name)s that you may see.", name=m.group(1))),
    (re.compile(r"^several organisations are named (.+); give the code$"),
     lambda m: _("Several organisations are named %(name)s; give the code.",
                 name=m.group(1))),
    (re.compile(r"^no active person (.+)$"),
     lambda m: _("No active person %(name)s.", name=m.group(1))),
    (re.compile(r"^several people are named (.+); give the username$"),
     lambda m: _("Several people are named %(name)s; give the username.", name=m.group(1))),
    (re.compile(r"^must be a date like"), lambda m: _("Must be a date like 2026-09-30.")),
    (re.compile(r"^must be a month like"), lambda m: _("Must be a month like 2026-09.")),
    (re.compile(r"^has not begun yet"), lambda m: _("That month has not begun yet.")),
    (re.compile(r"^is larger than (\d+) MB"),
     lambda m: _("The file is larger than %(size)s MB.", size=m.group(1))),
    (re.compile(r"^is not an Excel workbook"),
     lambda m: _("The file is not an Excel workbook (.xlsx).")),
    (re.compile(r"^holds (\d+) parts"),
     lambda m: _("The file holds far more parts than an Excel workbook does; it is refused.")),
    (re.compile(r"^unpacks to more than (\d+) MB"),
     lambda m: _("The file would unpack to more than %(size)s MB; it is refused.",
                 size=m.group(1))),
    (re.compile(r"^cannot be read as a workbook"),
     lambda m: _("The file cannot be read as an Excel workbook.")),
    (re.compile(r"^has no sheet"), lambda m: _("The workbook has no sheet.")),
    (re.compile(r"^has more than (\d+) rows"),
     lambda m: _("The sheet has more than %(count)s rows.", count=m.group(1))),
    (re.compile(r"^holds more than (\d+) problems"),
     lambda m: _("The file holds more than %(count)s problems; split it into several files.",
                 count=m.group(1))),
    (re.compile(r"^has no header row"),
     lambda m: _("No header row with a 问题（事项） column was found in the first 10 rows.")),
    (re.compile(r"^has no problems under"),
     lambda m: _("There are no problems under the header row.")),
    (re.compile(r"^has no column (.+)$"),
     lambda m: _("The file has no column %(name)s.", name=m.group(1))),
    (re.compile(r"^is not a ledger filter"), lambda m: _("Not a ledger filter.")),
]


def explain(reason: str) -> str:
    """One of the engine's reasons as a sentence in the reader's language."""
    for pattern, sentence in _PATTERNS:
        found = pattern.search(reason)
        if found:
            return sentence(found)
    return reason
