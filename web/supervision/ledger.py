"""The ledger (台账): filtered, sorted, paged; its Excel export and the problem-list import."""
from __future__ import annotations

import re
from typing import Any

from flask import current_app, flash, render_template, request
from flask_babel import gettext as _

from engine.errors import ValidationError
from web.auth import engine, me, supervisor_required
from web.supervision import bp
from web.supervision.params import arg, ledger_filters, page_number, xlsx_response

#: a bad cell of an imported file is reported as "<row>:<column header>"
_CELL = re.compile(r"^(\d+):(.+)$")


@bp.get("/ledger")
@supervisor_required
def ledger() -> Any:
    scope = engine().report_scope(me(), org=arg("org"))
    filters = ledger_filters(scope.org.code)
    size = current_app.config.get("PAGE_SIZE", 20)
    page = page_number()
    try:
        found = engine().ledger(me(), limit=size, offset=(page - 1) * size, **filters)
    except ValidationError as err:
        return render_template("supervision/ledger.html", scope=scope, filters=filters,
                               found=None, errors=err.fields, page=1, pages=1), 422
    pages = max((found.total + size - 1) // size, 1)
    return render_template("supervision/ledger.html", scope=scope, filters=filters,
                           found=found, errors={}, page=page, pages=pages)


@bp.get("/ledger/export")
@supervisor_required
def ledger_export() -> Any:
    """Exactly the rows the ledger shows for the same query string, as .xlsx."""
    scope = engine().report_scope(me(), org=arg("org"))
    filters = ledger_filters(scope.org.code)
    # the same filters through the screen's query first: a bad one is refused before
    # the streaming writer has begun a workbook it could not finish
    engine().ledger(me(), limit=1, **filters)
    content = engine().export_ledger(me(), **filters)
    return xlsx_response(content, f"{scope.org.name}台账-{scope.today:%Y%m%d}.xlsx")


@bp.get("/ledger/template")
@supervisor_required
def ledger_template() -> Any:
    return xlsx_response(engine().problem_list_template(), "问题清单模板.xlsx")


def _file_problems(err: ValidationError) -> tuple[list[str], list[dict[str, Any]]]:
    """Whole-file problems, and bad cells by row then column, from the import's error."""
    general, cells = [], []
    for key, reason in err.fields.items():
        found = _CELL.match(key)
        if found:
            cells.append({"row": int(found.group(1)), "column": found.group(2),
                          "reason": reason})
        else:
            general.append(reason)
    cells.sort(key=lambda c: c["row"])
    return general, cells


@bp.route("/ledger/import", methods=["GET", "POST"])
@supervisor_required
def ledger_import() -> Any:
    """Import a problem list: all rows start, or none does and every bad cell is shown."""
    if request.method == "GET":
        return render_template("supervision/import.html", general=[], cells=[], report=None)
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        general = [_("Choose an Excel file (.xlsx) to import.")]
        return render_template("supervision/import.html", general=general, cells=[],
                               report=None), 400
    if not upload.filename.lower().endswith(".xlsx"):
        general = [_("Only Excel workbooks (.xlsx) can be imported; save the file as .xlsx "
                     "first.")]
        return render_template("supervision/import.html", general=general, cells=[],
                               report=None), 400
    try:
        report = engine().import_problem_list(upload.stream, by=me())
    except ValidationError as err:
        general, cells = _file_problems(err)
        return render_template("supervision/import.html", general=general, cells=cells,
                               report=None), 422
    flash(_("%(count)s problems were registered on the ledger.", count=report.rows), "success")
    return render_template("supervision/import.html", general=[], cells=[], report=report)
