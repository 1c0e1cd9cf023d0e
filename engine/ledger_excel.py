"""The ledger (台账) and the monthly circular as Excel workbooks, and reading a problem list.

Every sheet written here follows the same rules: a title row over the table,
Chinese column headers in the row below it, frozen under the headers, set
column widths, dates and times as real Excel dates in the engine's zone, and
red/yellow/green fills on the light column. Workbooks are written in openpyxl's
write-only mode, row by row, so an export's memory does not grow with its rows.

A problem list is read back from the same layout (:func:`read_problem_list`):
the header row is found by its titles, so the title row, the column order and
the read-only columns (编号, 状态, 灯色, ...) do not matter. Before openpyxl
opens anything the file is checked as a zip archive — its size, its number of
entries and their total uncompressed size — so a zip bomb dressed as .xlsx is
refused without being inflated.
"""
from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, BinaryIO, Iterable, Sequence
from zoneinfo import ZoneInfo

from openpyxl import Workbook, load_workbook
from openpyxl.cell import Cell, WriteOnlyCell
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter

from sqlalchemy.orm import Session

from engine.errors import ValidationError
from engine.queries import ledger as ledger_queries
from engine.queries import units
from engine.queries.ledger import LedgerFilter
from engine.views import CircularView, LedgerRow

#: refuse files larger than this before looking inside
MAX_FILE_BYTES = 10 * 1024 * 1024
#: a workbook's parts, uncompressed, may not add up to more than this
MAX_UNCOMPRESSED_BYTES = 100 * 1024 * 1024
MAX_ZIP_ENTRIES = 500
#: problems one file may hold (one transaction starts an instance per row)
MAX_IMPORT_ROWS = 2_000
#: rows looked at, blank ones included, before giving up on a sheet
MAX_SCANNED_ROWS = 20_000
MAX_COLUMNS = 60

#: the sources a problem may have (seed 001 二: 上级点、自己找、群众提)
SOURCES = ("上级点", "自己找", "群众提")
#: the columns an imported problem list must have
REQUIRED_COLUMNS = ("title", "source", "responsible_unit")
KIND_LABELS = {"problem": "问题", "matter": "督办事项", "petition": "信访案件"}
STATE_LABELS = {"registered": "已登记", "assigned": "责任分解", "rectifying": "整改中",
                "reviewing": "审核验收", "closed": "已销号", "cancelled": "已撤销"}
LIGHT_LABELS = {"red": "红灯", "yellow": "黄灯", "green": "绿灯"}
#: Excel's own "bad / neutral / good" styles: a fill and a font colour per light
LIGHT_STYLES = {"red": ("FFC7CE", "9C0006"), "yellow": ("FFEB9C", "9C5700"),
                "green": ("C6EFCE", "006100")}

#: (field, header, width, aliases accepted on import)
LEDGER_COLUMNS: tuple[tuple[str, str, int, tuple[str, ...]], ...] = (
    ("number", "编号", 15, ("台账编号", "问题编号")),
    ("kind", "类型", 10, ()),
    ("title", "问题（事项）", 40, ("问题标题", "标题", "问题", "事项", "事项名称")),
    ("source", "问题来源", 10, ("来源",)),
    ("category", "问题类别", 14, ("类别",)),
    ("responsible_unit", "责任单位", 20, ("牵头单位", "承办单位", "牵头部门")),
    ("responsible_person", "责任人", 10, ("承办人",)),
    ("lead_leader", "牵头领导", 10, ("责任领导",)),
    ("measures", "整改措施", 40, ("措施", "办理措施")),
    ("due_date", "时限要求", 12, ("整改时限", "完成时限", "办理时限")),
    ("state", "状态", 10, ("办理状态",)),
    ("light", "灯色", 8, ("红黄绿灯",)),
    ("returns", "退回次数", 9, ()),
    ("created_at", "登记时间", 17, ()),
    ("closed_at", "销号时间", 17, ()),
)

_THIN = Side(style="thin", color="BFBFBF")
_BORDER = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
_WRAP = Alignment(wrap_text=True, vertical="top")
DATE_FORMAT, DATETIME_FORMAT, PERCENT_FORMAT = "yyyy-mm-dd", "yyyy-mm-dd hh:mm", "0.0%"
#: the cell styles of every sheet, by name
STYLES: dict[str, dict[str, Any]] = {
    "title": {"font": Font(bold=True, size=14),
              "alignment": Alignment(horizontal="center", vertical="center")},
    "header": {"font": Font(bold=True), "fill": PatternFill("solid", fgColor="D9E1F2"),
               "border": _BORDER, "alignment": _WRAP},
    "text": {"border": _BORDER},
    "wrap": {"border": _BORDER, "alignment": _WRAP},
    "bold": {"border": _BORDER, "font": Font(bold=True)},
    "date": {"border": _BORDER, "number_format": DATE_FORMAT},
    "datetime": {"border": _BORDER, "number_format": DATETIME_FORMAT},
    "percent": {"border": _BORDER, "number_format": PERCENT_FORMAT},
    "bold_percent": {"border": _BORDER, "number_format": PERCENT_FORMAT,
                     "font": Font(bold=True)},
    **{f"light_{light}": {"border": _BORDER, "fill": PatternFill("solid", fgColor=fill),
                          "font": Font(color=colour, bold=True)}
       for light, (fill, colour) in LIGHT_STYLES.items()},
}


class _Sheet:
    """A write-only sheet laid out by the rules above."""

    def __init__(self, wb: Workbook, name: str, title: str,
                 columns: Sequence[tuple[str, int]]) -> None:
        self.ws = wb.create_sheet(name[:31])
        self.width = len(columns)
        self._templates: dict[str, Cell] = {}
        for index, (_header, width) in enumerate(columns, start=1):
            self.ws.column_dimensions[get_column_letter(index)].width = width
        self.ws.freeze_panes = "A3"
        self.ws.merged_cells.add(f"A1:{get_column_letter(self.width)}1")
        self.ws.row_dimensions[1].height = 28
        self.ws.append([self.cell(title, "title")])
        self.ws.append([self.cell(h, "header") for h, _w in columns])
        self.rows = 0

    def cell(self, value: Any, style: str = "text") -> Cell:
        template = self._templates.get(style)
        if template is None:
            template = WriteOnlyCell(self.ws)
            for name, setting in STYLES[style].items():
                setattr(template, name, setting)
            self._templates[style] = template
        # Setting font, fill and border looks each up by hashing it, which costs more than
        # writing the cell: every cell of a style shares the template's registered style.
        return Cell(self.ws, row=1, column=1, value=value, style_array=template._style)

    def append(self, cells: list[Cell]) -> None:
        self.ws.append(cells)
        self.rows += 1

    def finish(self) -> None:
        if self.rows:
            self.ws.auto_filter.ref = f"A2:{get_column_letter(self.width)}{self.rows + 2}"


def _local(moment: datetime | None, zone: ZoneInfo) -> datetime | None:
    # Excel has no time zones: a naive local time is what the reader expects to see
    return moment.astimezone(zone).replace(tzinfo=None) if moment is not None else None


def light_cell(sheet: _Sheet, light: str | None) -> Cell:
    if light not in LIGHT_STYLES:
        return sheet.cell(None)
    return sheet.cell(LIGHT_LABELS[light], f"light_{light}")


def _save(wb: Workbook, out: BinaryIO | None) -> bytes | None:
    if out is not None:
        wb.save(out)
        return None
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def write_ledger(rows: Iterable[LedgerRow], out: BinaryIO | None = None, *, title: str,
                 tz: str) -> bytes | None:
    """Write ledger rows to an .xlsx; into *out* if given, else return its bytes."""
    zone = ZoneInfo(tz)
    wb = Workbook(write_only=True)
    sheet = _Sheet(wb, "台账", title, [(h, w) for _f, h, w, _a in LEDGER_COLUMNS])
    cell = sheet.cell
    for r in rows:
        sheet.append([
            cell(r.number), cell(KIND_LABELS.get(r.kind, r.kind)), cell(r.title, "wrap"),
            cell(r.source), cell(r.category),
            cell(r.responsible_unit_name or r.responsible_unit),
            cell(r.responsible_person_name or r.responsible_person),
            cell(r.lead_leader_name or r.lead_leader), cell(r.measures, "wrap"),
            cell(r.due_date, "date"), cell(STATE_LABELS.get(r.state, r.state)),
            light_cell(sheet, r.light), cell(r.returns),
            cell(_local(r.created_at, zone), "datetime"),
            cell(_local(r.closed_at, zone), "datetime"),
        ])
    sheet.finish()
    return _save(wb, out)


def export_ledger(session: Session, username: str, f: LedgerFilter, out: BinaryIO | None, *,
                  tz: str, now: datetime) -> bytes | None:
    """Exactly the rows the ledger shows for these filters, as an .xlsx (streamed).

    :raise ValidationError: a bad filter, or more than ``MAX_EXPORT_ROWS`` rows.
    :raise NotFound, PermissionDenied: as for the ledger.
    """
    scope = units.resolve(session, username, f.org)
    what = f"{KIND_LABELS[f.kind]}台账" if f.kind in KIND_LABELS else "台账"
    stamp = now.astimezone(ZoneInfo(tz)).strftime("%Y-%m-%d %H:%M")
    rows = ledger_queries.iter_rows(session, username, f, tz=tz)
    return write_ledger(rows, out, title=f"{scope.org.name}{what}（{stamp} 导出）", tz=tz)


def _percent(rate: float | None) -> float | None:
    return round(rate, 4) if rate is not None else None


def _counts_cells(sheet: _Sheet, c: Any, *, bold: bool = False) -> list[Cell]:
    plain, alarm = ("bold", "light_red") if bold else ("text", "light_red")
    return [sheet.cell(c.due, plain), sheet.cell(c.on_time, plain), sheet.cell(c.late, plain),
            sheet.cell(c.overdue, alarm if c.overdue else plain), sheet.cell(c.pending, plain),
            sheet.cell(c.carried_over, alarm if c.carried_over else plain),
            sheet.cell(_percent(c.on_time_rate), "bold_percent" if bold else "percent")]


def write_circular(view: CircularView, out: BinaryIO | None = None, *,
                   tz: str) -> bytes | None:
    """One circular as an .xlsx: the ranking, the overdue items, the trend, the definitions."""
    zone = ZoneInfo(tz)
    year, month = view.month.split("-")
    heading = f"{view.org_name} {year}年{int(month)}月督查督办情况通报（一月一通报）"
    wb = Workbook(write_only=True)
    counts_headers = [("应办结", 9), ("按期办结", 10), ("逾期办结", 10), ("超期未办结", 11),
                      ("未到期", 9), ("往月超期未办结", 15), ("按期办结率", 11)]
    ranking = _Sheet(wb, "排名", heading, [("排名", 7), ("单位", 22), *counts_headers])
    for unit in view.units:
        ranking.append([ranking.cell(unit.rank), ranking.cell(unit.name),
                        *_counts_cells(ranking, unit.counts)])
    ranking.append([ranking.cell(None), ranking.cell("合计", "bold"),
                    *_counts_cells(ranking, view.totals, bold=True)])
    ranking.finish()
    overdue = _Sheet(wb, "超期事项", f"{heading}：超期未办结事项",
                     [("编号", 15), ("问题（事项）", 40), ("类型", 10), ("责任单位", 22),
                      ("时限要求", 12), ("超期工作日", 11)])
    for item in view.overdue_items:
        overdue.append([overdue.cell(item.number), overdue.cell(item.title, "wrap"),
                        overdue.cell(KIND_LABELS.get(item.kind, item.kind)),
                        overdue.cell(item.unit_name), overdue.cell(item.due_date, "date"),
                        overdue.cell(item.overdue_working_days)])
    overdue.finish()
    trend = _Sheet(wb, "趋势", f"{view.org_name} 按期办结情况趋势", [("月份", 10), *counts_headers])
    for point in view.trend:
        trend.append([trend.cell(point.month), *_counts_cells(trend, point.counts)])
    trend.finish()
    note = _Sheet(wb, "说明", "统计口径", [("项目", 16), ("说明", 90)])
    for label, text in (
            ("生成时间", _local(view.generated_at, zone)), ("生成人", view.generated_by),
            ("统计截至", _local(view.as_of, zone)),
            ("应办结", "时限要求在本月内、未撤销的问题、督办事项和信访案件"),
            ("按期办结", "应办结中，销号日期不晚于时限要求的"),
            ("逾期办结", "应办结中，销号日期晚于时限要求、但在统计截至前销号的"),
            ("超期未办结", "应办结中，统计截至时仍未销号且已过时限的"),
            ("未到期", "应办结中，统计截至时未销号、也未到时限的（仅当月未结束时）"),
            ("往月超期未办结", "时限要求在本月以前、统计截至时仍未销号的"),
            ("按期办结率", "按期办结 ÷（应办结 − 未到期）；没有已到期或已销号事项的单位不排名"),
            ("排名", "按按期办结率从高到低；办结率相同的并列同一名次，其后名次顺延")):
        note.append([note.cell(label, "bold"),
                     note.cell(text, "datetime" if isinstance(text, datetime) else "wrap")])
    note.finish()
    return _save(wb, out)


# -- reading a problem list ------------------------------------------------------------

@dataclass(frozen=True)
class SheetRow:
    """One non-blank data row: its Excel row number and its values by field."""

    number: int
    values: dict[str, Any]


def _check_zip(content: bytes) -> None:
    if len(content) > MAX_FILE_BYTES:
        raise ValidationError({"file": f"is larger than {MAX_FILE_BYTES // (1024 * 1024)} MB"})
    if not zipfile.is_zipfile(io.BytesIO(content)):
        raise ValidationError({"file": "is not an Excel workbook (.xlsx)"})
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            entries = archive.infolist()
            if len(entries) > MAX_ZIP_ENTRIES:
                raise ValidationError({"file": f"holds {len(entries)} parts; an Excel "
                                               f"workbook holds far fewer"})
            # the sizes the archive declares bound what zipfile will inflate
            inflated = sum(e.file_size for e in entries)
            names = {e.filename for e in entries}
    except zipfile.BadZipFile:
        raise ValidationError({"file": "is not an Excel workbook (.xlsx)"}) from None
    if inflated > MAX_UNCOMPRESSED_BYTES:
        raise ValidationError({"file": "unpacks to more than "
                                       f"{MAX_UNCOMPRESSED_BYTES // (1024 * 1024)} MB"})
    if "[Content_Types].xml" not in names or "xl/workbook.xml" not in names:
        raise ValidationError({"file": "is not an Excel workbook (.xlsx)"})


def _aliases() -> dict[str, str]:
    found = {}
    for field, header, _width, aliases in LEDGER_COLUMNS:
        for name in (header, *aliases):
            found[_squash(name)] = field
    found[_squash("问题描述")] = "description"
    found[_squash("描述")] = "description"
    return found


def _squash(text: str) -> str:
    """Header text without spaces, line breaks, asterisks or brackets' contents."""
    text = str(text).replace("\n", "").replace(" ", "").replace("　", "").replace("*", "")
    for left, right in (("（", "）"), ("(", ")")):
        if left in text and right in text and not text.startswith(left):
            text = text[:text.index(left)] + text[text.index(right) + 1:]
    return text


def _header_map(row: Sequence[Any]) -> dict[int, str] | None:
    aliases = _aliases()
    mapping = {}
    for index, value in enumerate(row):
        if isinstance(value, str) and _squash(value) in aliases:
            mapping[index] = aliases[_squash(value)]
    return mapping if "title" in mapping.values() else None


def read_problem_list(content: bytes | BinaryIO) -> tuple[set[str], list[SheetRow]]:
    """The columns found and the non-blank rows of a problem list's first sheet.

    :raise ValidationError: ``{"file": reason}``: not a real .xlsx, too large, no
        header row with a 问题 column, or more than ``MAX_IMPORT_ROWS`` rows.
    """
    if not isinstance(content, (bytes, bytearray)):
        content = content.read(MAX_FILE_BYTES + 1)
    content = bytes(content)
    _check_zip(content)
    try:
        wb = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a broken workbook
        raise ValidationError({"file": f"cannot be read as a workbook: {exc}"[:300]}) from None
    try:
        if not wb.worksheets:
            raise ValidationError({"file": "has no sheet"})
        mapping: dict[int, str] | None = None
        rows: list[SheetRow] = []
        for number, values in enumerate(wb.worksheets[0].iter_rows(
                max_col=MAX_COLUMNS, values_only=True), start=1):
            if number > MAX_SCANNED_ROWS:
                raise ValidationError({"file": f"has more than {MAX_SCANNED_ROWS} rows"})
            if mapping is None:
                if number > 10:
                    break
                mapping = _header_map(values)
                continue
            picked = {field: values[i] for i, field in mapping.items() if i < len(values)}
            picked = {k: v.strip() if isinstance(v, str) else v for k, v in picked.items()}
            if all(v is None or v == "" for v in picked.values()):
                continue
            if len(rows) == MAX_IMPORT_ROWS:
                raise ValidationError({"file": f"holds more than {MAX_IMPORT_ROWS} problems; "
                                               "split it into several files"})
            rows.append(SheetRow(number, picked))
    except ValidationError:
        raise
    except Exception as exc:
        raise ValidationError({"file": f"cannot be read as a workbook: {exc}"[:300]}) from None
    finally:
        wb.close()
    if mapping is None:
        raise ValidationError({"file": "has no header row with a 问题（事项） column in its "
                                       "first 10 rows"})
    if not rows:
        raise ValidationError({"file": "has no problems under its header row"})
    return set(mapping.values()), rows


def header(field: str) -> str:
    """The ledger's header for a field (what row problems are reported under)."""
    for name, text, _width, _aliases in LEDGER_COLUMNS:
        if name == field:
            return text
    return "问题描述" if field == "description" else field


def as_date(value: Any) -> date:
    """A cell's value as a date: an Excel date, or text like 2026-09-30, 2026/9/30 or
    2026年9月30日.

    :raise ValueError: anything else.
    """
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        text = value.strip().replace("年", "-").replace("月", "-").replace("日", "")
        text = text.replace("/", "-").replace(".", "-")
        parts = text.split("-")
        if len(parts) == 3 and all(p.isdigit() for p in parts):
            return date(int(parts[0]), int(parts[1]), int(parts[2]))
    raise ValueError("must be a date like 2026-09-30")


__all__ = ["export_ledger", "write_ledger", "write_circular", "read_problem_list", "SheetRow",
           "as_date", "header", "LEDGER_COLUMNS", "MAX_IMPORT_ROWS", "MAX_FILE_BYTES",
           "MAX_UNCOMPRESSED_BYTES", "KIND_LABELS", "STATE_LABELS", "LIGHT_LABELS", "SOURCES",
           "REQUIRED_COLUMNS"]
