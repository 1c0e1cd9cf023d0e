"""The cadre's inbox: 待办 / 已办 / 我发起的 / 抄送我的, in-app notices, the task page and
every verb on a task.

Routes (all behind sign-in; what each person may see and do is the engine's call):

- ``GET /inbox`` — the tabs, filters, paging, notices and extension requests to
  decide (:mod:`web.inbox.views`); ``POST /notices/<id>/read``, ``POST /copies/<id>/read``;
- ``GET /tasks/<id>`` — the task page; ``GET /attachments/<id>`` — an evidence file;
- ``POST /tasks/<id>/<verb>`` — claim, unclaim, complete, transfer, delegate, resolve,
  signers, sign, send-back, withdraw, copy, urge, extension, comments, attachments;
  ``POST /extension-requests/<id>/decide|withdraw`` (:mod:`web.inbox.verbs`).
"""
from flask import Blueprint

bp = Blueprint("inbox", __name__, template_folder="templates")

from web.inbox import verbs, views  # noqa: E402,F401  (they add the routes)
