"""Task spec subclasses that carry duban behaviour into SpiffWorkflow."""
from __future__ import annotations

from typing import Any

from SpiffWorkflow.bpmn.specs.defaults import ServiceTask


class DubanServiceTask(ServiceTask):
    """A service task that calls a Python handler registered by name.

    SpiffWorkflow's own service task does nothing and leaves the task started
    forever; ours asks the script engine (which holds the handler registry).
    """

    def _execute(self, task: Any) -> bool:
        service = getattr(self, "extensions", {}).get("service", {})
        task.workflow.script_engine.call_service(
            task, handler=service.get("handler"), result_variable=service.get("result_variable"))
        return True
