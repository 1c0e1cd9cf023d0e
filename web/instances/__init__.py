"""The instance pages: one instance with its live diagram, timeline, data and the
managers' actions; the list of instances; starting a process (发起).

Routes (all behind sign-in; who may see and do what is the engine's call):

- ``GET /instances`` — the instances one may see, filtered and paged;
- ``GET /instances/<id>`` — the instance page; ``GET /instances/<id>/diagram`` — its
  BPMN XML and element states as JSON, for ``static/instance-diagram.js``;
- ``POST /instances/<id>/suspend|resume|cancel|retry`` and
  ``POST /instances/<id>/jobs/<job id>/retry`` — the managers' actions
  (:mod:`web.instances.views`);
- ``GET /start``, ``GET|POST /start/<process key>`` — choose a process, fill its start
  form, start it (:mod:`web.instances.start`).
"""
from flask import Blueprint

bp = Blueprint("instances", __name__, template_folder="templates")

from web.instances import start, views  # noqa: E402,F401  (they add the routes)
