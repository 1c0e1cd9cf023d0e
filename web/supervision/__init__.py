"""The supervisor's pages: the dashboard (督办), the ledger (台账) and the monthly circular (通报).

Every page is behind ``supervisor_required`` and shows what the engine lets the
person see: each read names the person, and the engine filters by the
organisations they may see (``engine/permissions.py``). Routes:

- ``GET /supervision`` (dashboard), ``GET /supervision/tasks`` (its drill-down),
  ``POST /supervision/tasks/<id>/urge`` (催办) — :mod:`web.supervision.views`;
- ``GET /ledger``, ``GET /ledger/export``, ``GET|POST /ledger/import``,
  ``GET /ledger/template`` — :mod:`web.supervision.ledger`;
- ``GET|POST /circulars``, ``GET /circulars/<id>``, ``GET /circulars/<id>.xlsx`` —
  :mod:`web.supervision.circulars`.
"""
from flask import Blueprint

bp = Blueprint("supervision", __name__, template_folder="templates")

from web.supervision import circulars, ledger, views  # noqa: E402,F401  (they add routes)
