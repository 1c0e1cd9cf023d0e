"""Demo data: 湘潭县 → 易俗河镇 with its offices and ten branches, people in every role,
every procedure in ``processes/``, and a few months of simulated work on them.

The work is simulated, not invented: instances are started on past dates and
walked through their real steps by the people who hold them, with form data
drawn from a seeded random generator, while a frozen clock moves day by day
and fires the jobs a worker would have fired (reminders, lights, 督办). So the
items end up in every state and light for real — some closed, some sent back,
some overdue and escalated — and the same run always gives the same world.
Loading twice adds nothing the second time.
"""
from __future__ import annotations

import os
import random
import json
from datetime import datetime, time, timedelta, timezone
from pathlib import Path
from typing import Any, Generator, Iterator
from zoneinfo import ZoneInfo

from sqlalchemy import select

from engine.api import Engine
from engine.circulars import previous_month
from engine.clock import FrozenClock
from engine.errors import ConflictError, DubanError
from engine.models import Organisation, ProcessElement, ProcessInstance, ProcessVersion

PROCESSES = Path(os.environ.get("DUBAN_PROCESSES_DIR",
                                Path(__file__).resolve().parent.parent / "processes"))
COUNTY, TOWN = "xt-county", "ysh-town"
BRANCHES = [("ysh-chengxi", "城西村党支部"), ("ysh-huayuan", "花园村党支部"),
            ("ysh-xintang", "新塘村党支部"), ("ysh-yangliu", "杨柳村党支部"),
            ("ysh-shitang", "石塘村党支部"), ("ysh-gutang", "古塘桥村党支部"),
            ("ysh-yaowan", "窑湾社区党支部"), ("ysh-jinxia", "金霞社区党支部"),
            ("ysh-fenglin", "枫林村党支部"), ("ysh-shuangmiao", "双庙村党支部")]
ORGS = [(COUNTY, "湘潭县委组织部", "county", None), (TOWN, "易俗河镇党委", "town", COUNTY),
        ("ysh-djz", "易俗河镇党建工作站", "office", TOWN),
        ("ysh-jw", "易俗河镇纪委", "office", TOWN),
        ("ysh-dcs", "易俗河镇督查室", "office", TOWN),
        *[(code, name, "branch", TOWN) for code, name in BRANCHES]]
SURNAMES = "赵钱孙李周吴郑王冯陈褚卫蒋沈韩杨朱秦尤许何吕施张孔曹严华金魏陶姜戚谢邹喻"
#: every demo person signs in with their username and this password
DEMO_PASSWORD = "duban-2026"
GIVEN = "建国志强海燕红梅卫东秀英国华春生桂兰德明小军丽娟永红文斌晓玲"


def _people() -> list[tuple[str, str, list[tuple[str, str]]]]:
    """Everyone, with the roles they hold: the same list every run."""
    rng = random.Random(20261125)
    used: set[str] = set()

    def name() -> str:
        while True:
            full = rng.choice(SURNAMES) + "".join(rng.sample(GIVEN, 2))
            if full not in used:
                used.add(full)
                return full

    people = [("admin", "系统管理员", [("admin", COUNTY)]),
              ("designer", "流程设计员", [("designer", COUNTY)]),
              ("xt.zzb", name(), [("leader", COUNTY), ("organisation_member", COUNTY)]),
              ("ysh.sj", name(), [("secretary", TOWN), ("leader", TOWN)]),
              ("ysh.fsj", name(), [("leader", TOWN)]),
              ("ysh.zzwy", name(), [("organisation_member", TOWN)]),
              ("ysh.jwsj", name(), [("discipline_secretary", "ysh-jw")]),
              ("ysh.djz", name(), [("organisation_member", "ysh-djz")]),
              ("ysh.dc1", name(), [("inspector", "ysh-dcs")]),
              ("ysh.dc2", name(), [("inspector", "ysh-dcs")])]
    for index, (code, _name) in enumerate(BRANCHES, start=1):
        people.append((f"v{index:02d}.sj", name(), [("secretary", code)]))
        people.append((f"v{index:02d}.gb", name(), [("cadre", code)]))
        for member in (1, 2):
            people.append((f"v{index:02d}.dy{member}", name(), [("party_member", code)]))
    return people


BJ = ZoneInfo("Asia/Shanghai")


def load_demo(eng: Engine, *, with_instances: bool = True, days: int = 75) -> Iterator[str]:
    """Build the demo world in *eng*'s database; yields a line per stage."""
    eng.migrate()
    yield "database ready"
    fresh = _organisations(eng)
    yield (f"{len(ORGS)} organisations and {len(_people())} people ready "
           f"(each signs in with their username and the password {DEMO_PASSWORD})")
    created = []
    for path in sorted(PROCESSES.glob("*.bpmn")):
        version = eng.deploy_file(path, by="admin")
        created.extend(v for v in version.all_in_file if v.created)
        yield f"{path.name}: " + ", ".join(f"{v.process_key} v{v.version}"
                                            for v in version.all_in_file)
    if with_instances and fresh:
        started = yield from _simulate(eng, days)
        yield f"{started} instances worked on over {days} simulated days"
        # last month's circular (一月一通报), as the job on the 1st would have made it
        month = previous_month(eng.clock.now(), eng.config.timezone)
        eng.generate_circular(TOWN, month, by="system")
        yield f"{month} circular of {TOWN} generated"


def _organisations(eng: Engine) -> bool:
    """Create the tree and people; False when they were there already."""
    try:
        eng.add_organisation(*ORGS[0][:3], parent=ORGS[0][3])
    except ConflictError:
        return False
    for code, name, kind, parent in ORGS[1:]:
        eng.add_organisation(code, name, kind, parent=parent)
    for username, name, roles in _people():
        eng.add_person(username, name)
        for role, org in roles:
            eng.grant_role(username, role, org)
        eng.set_password(username, DEMO_PASSWORD, by="admin")
    return True


def _simulate(eng: Engine, days: int) -> Generator[str, None, int]:
    """Start and walk instances over *days* days ending now, on a frozen clock."""
    rng = random.Random(7)
    today = datetime.now(BJ).date()
    clock = FrozenClock(datetime.combine(today - timedelta(days=days), time(9, 0), BJ))
    sim = Engine(eng.database_url, clock=clock, config=eng.config)
    for name, handler in eng.service_handlers.items():
        sim.service_handlers.setdefault(name, handler)
    keys = _startable(sim)
    started = 0
    try:
        for day in range(days):
            moment = datetime.combine(today - timedelta(days=days - day), time(9, 30), BJ)
            _advance(sim, clock, moment)
            if moment.weekday() < 5:
                for key, starter, org in _todays_starts(rng, keys, day):
                    try:
                        sim.start(key, _fill(rng, sim, _start_form(sim, key), org), by=starter,
                                  org=org)
                        started += 1
                    except DubanError:
                        continue
                _work(sim, rng, clock, moment)
            if day % 15 == 14:
                yield f"simulated up to {moment:%Y-%m-%d}"
        _advance(sim, clock, datetime.now(timezone.utc))
        _hold_some(sim)
    finally:
        sim.dispose()
    return started


def _hold_some(eng: Engine) -> None:
    """One matter withdrawn as a duplicate, one problem put on hold: every state shows."""
    with eng.sessions() as s:
        running = {key: s.execute(select(ProcessInstance.id).where(
            ProcessInstance.process_key == key, ProcessInstance.state == "running")
            .order_by(ProcessInstance.id).limit(1)).scalar()
            for key in ("supervision_matter", "problem_rectification")}
    if running["supervision_matter"]:
        eng.cancel(running["supervision_matter"], by="admin", reason="与已交办事项重复，撤销")
    if running["problem_rectification"]:
        eng.suspend(running["problem_rectification"], by="admin")


def _startable(eng: Engine) -> list[str]:
    """Process keys a person starts (not those a calendar starts, nor called ones)."""
    with eng.sessions() as s:
        keys = sorted(set(s.execute(select(ProcessVersion.process_key)).scalars()))
        timed = set(s.execute(select(ProcessVersion.process_key).join(
            ProcessElement, ProcessElement.version_id == ProcessVersion.id).where(
            ProcessElement.extensions.contains('"startsFor"'))).scalars())
    return [k for k in keys if k not in timed]


#: who opens each kind of case (default: the village's secretary), and how often a day
STARTERS = {"supervision_matter": "ysh.dc1", "petition_backlog": "ysh.fsj",
            "adjust_unfit_cadre": "ysh.zzwy", "unqualified_member": None}
WEIGHTS = {"problem_rectification": 0.6, "supervision_matter": 0.35, "petition_backlog": 0.2}


def _todays_starts(rng: random.Random, keys: list[str], day: int) -> list[tuple[str, str, str]]:
    starts = []
    for key in keys:
        if rng.random() < WEIGHTS.get(key, 0.05):
            index = rng.randrange(len(BRANCHES))
            starter = STARTERS.get(key) or f"v{index + 1:02d}.sj"
            starts.append((key, starter, BRANCHES[index][0]))
    return starts


def _start_form(eng: Engine, key: str) -> list[dict[str, Any]]:
    with eng.sessions() as s:
        rows = s.execute(select(ProcessElement.extensions).join(
            ProcessVersion, ProcessVersion.id == ProcessElement.version_id).where(
            ProcessVersion.process_key == key, ProcessElement.element_type.like("%StartEvent%"))
            ).scalars().all()
    for text in rows:
        form = json.loads(text).get("form")
        if form:
            return list(form)
    return []


def _work(eng: Engine, rng: random.Random, clock: FrozenClock, moment: datetime) -> None:
    """Each open task is done today with some chance; some are left to run late."""
    for task in eng.open_tasks(limit=500):
        if rng.random() > 0.35:
            continue
        who = task.assignee or (task.candidates[0] if task.candidates else "admin")
        org_code = _org_code(eng, eng.get_instance(task.instance_id).org_id)
        try:
            eng.complete(task.id, _fill(rng, eng, list(task.form), org_code), by=who)
        except DubanError:
            continue


def _org_code(eng: Engine, org_id: int | None) -> str:
    with eng.sessions() as s:
        org = s.get(Organisation, org_id) if org_id else None
        return org.code if org is not None else BRANCHES[0][0]


def _fill(rng: random.Random, eng: Engine, form: list[dict[str, Any]], org: str) -> dict[str, Any]:
    """Plausible form data, drawn from the seeded generator."""
    index = next((i for i, (code, _n) in enumerate(BRANCHES) if code == org), 0) + 1
    data: dict[str, Any] = {}
    names = {f["name"] for f in form}
    for field in form:
        if field.get("readonly"):
            continue
        name, kind = field["name"], field["type"]
        if kind == "enum":
            data[name] = _choose(rng, [o["value"] for o in field.get("options", [])])
        elif kind == "multienum":
            data[name] = [o["value"] for o in field.get("options", [])][:1]
        elif kind == "integer":
            low, high = int(field.get("min", 0)), int(field.get("max", 100))
            data[name] = rng.randint(low, max(low, min(high, low + 30)))
        elif kind == "number":
            data[name] = round(rng.uniform(field.get("min", 60), field.get("max", 100)), 1)
        elif kind == "boolean":
            data[name] = rng.random() < 0.75
        elif kind == "date":
            data[name] = (eng.clock.now().astimezone(BJ).date()
                          + timedelta(days=rng.randint(5, 40))).isoformat()
        elif kind == "datetime":
            data[name] = (eng.clock.now() + timedelta(days=rng.randint(1, 20))).isoformat()
        elif kind == "person":
            data[name] = "ysh.fsj" if "leader" in name else f"v{index:02d}.gb"
        elif kind == "organisation":
            data[name] = org
        elif kind == "attachments":
            # ids of files in the attachment store, which the web product fills;
            # the demo names files that a person would have uploaded
            data[name] = [f"demo/{name}-{rng.randint(1, 999):03d}.pdf"]
        else:
            data[name] = f"{field.get('label', name)}：按要求办理（演示数据）"[
                :field.get("max_length", 2000)]
    _fix_votes(rng, data, names)
    return data


#: answers that move a case forward are likelier; going back or objecting happens too
FORWARD = ("通过", "申请", "同意", "完成", "办结", "销号", "无异议", "签收", "调整", "合格", "维持")
BACK = ("退回", "不通过", "有异议", "继续", "不同意", "不予", "撤销", "改派")


def _choose(rng: random.Random, options: list[str]) -> str:
    weights = [4 if any(w in o for w in FORWARD) and not any(b in o for b in BACK)
               else 1 for o in options]
    return rng.choices(options, weights=weights)[0]


def _fix_votes(rng: random.Random, data: dict[str, Any], names: set[str]) -> None:
    """Vote counts that add up; most meetings pass."""
    for prefix in {n[: -len("_eligible")] for n in names if n.endswith("_eligible")}:
        eligible = rng.randint(15, 40)
        present = rng.randint(int(eligible * 0.7), eligible)
        yes = rng.randint(present // 2 + 1, present) if rng.random() < 0.85 else present // 3
        no = rng.randint(0, present - yes)
        data.update({f"{prefix}_eligible": eligible, f"{prefix}_present": present,
                     f"{prefix}_for": yes, f"{prefix}_against": no,
                     f"{prefix}_abstain": present - yes - no})


def _advance(eng: Engine, clock: FrozenClock, when: datetime) -> None:
    """Move the clock to *when*, firing every job due on the way as a worker would."""
    while True:
        upcoming = eng.next_job_due()
        if upcoming is None or upcoming > when:
            break
        clock.set(max(upcoming, clock.now()))
        eng.fire_due_jobs()
    clock.set(max(when, clock.now()))


__all__ = ["load_demo"]
