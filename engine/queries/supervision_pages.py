"""What the supervisor's pages need beside the reports: their scope, and a blank problem list.

:func:`report_scope` answers "which organisation is this page about, what are its
units, and which others may the person choose": the dashboard's chooser, the
ledger's unit filter and the circular's organisation come from it, so that the
web never works out the tree itself. The scope and its units are those of
:mod:`engine.queries.units`, the same the reports use.

:func:`problem_list_template` is the empty workbook a person fills in to import
a problem list (问题清单): one header row in the ledger's own titles
(:data:`engine.ledger_excel.LEDGER_COLUMNS`), so whatever the importer reads,
the template says.
"""
from __future__ import annotations

import io
from datetime import datetime
from zoneinfo import ZoneInfo

from openpyxl import Workbook
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation
from sqlalchemy.orm import Session

from engine import ledger_excel
from engine.commands.ledger import REQUIRED_COLUMNS, SOURCES
from engine.errors import ValidationError
from engine.organisations import OrgRef
from engine.queries import units
from engine.queries.people import visible_organisations
from engine.views import OrganisationView, ReportScopeView

#: the columns of the import template, in this order (fields of LEDGER_COLUMNS)
TEMPLATE_FIELDS = ("title", "description", "source", "category", "responsible_unit",
                   "responsible_person", "lead_leader", "measures", "due_date")
#: organisation kinds a report is not offered for: an office reports with its town
NOT_CHOSEN = ("office",)


def _view(ref: OrgRef) -> OrganisationView:
    return OrganisationView(ref.id, ref.code, ref.name, ref.kind, ref.parent_id, path=ref.path)


def report_scope(session: Session, username: str, *, org: str | None = None,
                 now: datetime, tz: str) -> ReportScopeView:
    """The organisation a report page shows (*org*, else the one the person sees
    from the top — the first such when they see several trees), its units, and
    the organisations the person may choose instead.

    :raise NotFound: no such organisation.
    :raise PermissionDenied: *username* may not see it, or sees nothing at all.
    """
    choices = tuple(o for o in visible_organisations(session, username)
                    if o.kind not in NOT_CHOSEN)
    try:
        scope = units.resolve(session, username, org)
    except ValidationError:
        if org is not None or not choices:
            raise
        # several trees and none chosen: the first top one, in tree order
        scope = units.resolve(session, username, choices[0].code)
    return ReportScopeView(org=_view(scope.org), units=tuple(_view(u) for u in scope.units),
                           choices=choices, today=now.astimezone(ZoneInfo(tz)).date())


def problem_list_template() -> bytes:
    """An empty problem list (问题清单) to fill in and import: one header row,
    required columns marked with *, a pick-list for 问题来源."""
    wb = Workbook()
    ws = wb.active
    ws.title = "问题清单"
    widths = {name: width for name, _header, width, _aliases in ledger_excel.LEDGER_COLUMNS}
    bold, fill = Font(bold=True), PatternFill("solid", fgColor="D9E1F2")
    for index, field in enumerate(TEMPLATE_FIELDS, start=1):
        # the importer ignores the * and reads 问题描述 too (see ledger_excel._aliases)
        title = ledger_excel.header(field) + ("*" if field in REQUIRED_COLUMNS else "")
        cell = ws.cell(row=1, column=index, value=title)
        cell.font, cell.fill = bold, fill
        letter = get_column_letter(index)
        ws.column_dimensions[letter].width = widths.get(field, 30)
        if field == "source":
            pick = DataValidation(type="list", formula1='"' + ",".join(SOURCES) + '"',
                                  allow_blank=True)
            pick.add(f"{letter}2:{letter}{ledger_excel.MAX_IMPORT_ROWS + 1}")
            ws.add_data_validation(pick)
        if field == "due_date":
            ws.column_dimensions[letter].number_format = ledger_excel.DATE_FORMAT
    ws.freeze_panes = "A2"
    notes = wb.create_sheet("填写说明")
    for row in (("列", "说明"),
                ("问题（事项）*", "问题的简要标题，不超过 200 字"),
                ("问题描述", "问题的具体情况；不填则与标题相同"),
                ("问题来源*", "、".join(SOURCES) + "，三选一"),
                ("问题类别", "如 村务公开、组织建设"),
                ("责任单位*", "填组织的编码或全称，如 v1 或 一村党支部"),
                ("责任人 / 牵头领导", "填用户名或姓名"),
                ("时限要求", "日期，如 2026-09-30"),
                ("", "每行登记一个问题；任何一行有误则整份文件都不导入")):
        notes.append(row)
    notes.column_dimensions["A"].width = 20
    notes.column_dimensions["B"].width = 60
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


__all__ = ["report_scope", "problem_list_template", "TEMPLATE_FIELDS"]
