"""Administration: people, their passwords and roles, and the organisation tree.

Every page is behind ``admin_required`` (anyone else gets 403); each change is
one engine command, which checks again that the person is an administrator and
records an audit event. Routes (:mod:`web.admin.views`):

- ``GET /admin`` — people, searched and filtered by organisation, paged;
  ``POST /admin/people`` — add a person;
- ``GET /admin/people/<username>`` — one person; ``POST .../password``,
  ``POST .../roles`` (grant), ``POST .../roles/revoke``, ``POST .../active``;
- ``GET /admin/organisations`` — the tree; ``POST /admin/organisations`` — add one.
"""
from flask import Blueprint

bp = Blueprint("admin", __name__, template_folder="templates")

from web.admin import views  # noqa: E402,F401  (it adds the routes)
