"""Browser libraries installed by npm (``package.json``), served from node_modules.

Only the built files of the packages listed here are reachable; nothing is
copied into the repository.
"""
from __future__ import annotations

from pathlib import Path

from flask import Blueprint, abort, send_from_directory
from werkzeug.wrappers import Response

ROOT = Path(__file__).resolve().parent.parent / "node_modules"
#: package → the folder inside it that may be served
SERVED = {
    "bpmn-js": "dist",
    "echarts": "dist",
}

bp = Blueprint("vendor", __name__, url_prefix="/vendor")


@bp.get("/<package>/<path:filename>")
def asset(package: str, filename: str) -> Response:
    folder = SERVED.get(package)
    if folder is None:
        abort(404)
    base = ROOT / package / folder
    if not base.is_dir():
        abort(404, description="browser libraries are not installed: run scripts/run once")
    # send_from_directory refuses paths that leave the folder
    return send_from_directory(base, filename, max_age=86400)
