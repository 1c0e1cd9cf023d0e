"""Construct tests run twice: with one Engine, and with a fresh Engine for every
step (the persistence form of SpiffWorkflow's save/restore double run)."""
from __future__ import annotations

from typing import Any, Callable, Iterator

import pytest

from engine import Engine, FrozenClock


class Driver:
    """Drives one test's engine; in ``fresh`` mode each call gets a new Engine."""

    def __init__(self, url: str, clock: FrozenClock, base: Engine, fresh: bool) -> None:
        self.url, self.clock, self.base, self.fresh = url, clock, base, fresh
        self.handlers: dict[str, Callable[..., Any]] = {}
        self.made: list[Engine] = []

    def register_service(self, name: str, handler: Callable[..., Any]) -> None:
        self.handlers[name] = handler
        self.base.register_service(name, handler)

    @property
    def eng(self) -> Engine:
        if not self.fresh:
            return self.base
        engine = Engine(self.url, clock=self.clock)
        self.made.append(engine)
        for name, handler in self.handlers.items():
            engine.register_service(name, handler)
        return engine

    def __getattr__(self, name: str) -> Any:
        return getattr(self.eng, name)

    def completed(self, instance_id: int) -> list[str]:
        """Element ids in the order they completed."""
        return [e.element_id for e in self.base.history(instance_id) if e.kind == "completed"]

    def kinds(self, instance_id: int, kind: str) -> list[str]:
        return [e.element_id for e in self.base.history(instance_id) if e.kind == kind]

    def task(self, instance_id: int, element_id: str | None = None) -> Any:
        tasks = self.base.open_tasks(instance_id=instance_id)
        if element_id is not None:
            tasks = [t for t in tasks if t.element_id == element_id]
        assert tasks, f"no open task {element_id or ''} in instance {instance_id}"
        return tasks[0]

    def open_elements(self, instance_id: int) -> list[str]:
        return sorted(t.element_id for t in self.base.open_tasks(instance_id=instance_id))

    def finish(self, instance_id: int, element_id: str, data: dict[str, Any] | None = None,
               by: str = "admin") -> None:
        self.eng.complete(self.task(instance_id, element_id).id, data or {}, by=by)


@pytest.fixture(params=[False, True], ids=["one-engine", "fresh-engine"])
def bpmn(request: pytest.FixtureRequest, org: Engine, db_url: str,
         clock: FrozenClock) -> Iterator[Driver]:
    driver = Driver(db_url, clock, org, request.param)
    yield driver
    for engine in driver.made:
        engine.dispose()
