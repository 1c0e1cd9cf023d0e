"""Restricted evaluator for BPMN conditions and script tasks.

Process designers are not trusted, so their code is never given to Python's
``eval``, ``exec`` or ``compile``. Instead it is parsed with :func:`ast.parse`,
checked against an allow-list when a definition is deployed, and run by the
small tree-walking interpreter below. Every node and loop iteration counts
against a step budget, every value produced is size-checked (before costly work
where needed, see :mod:`engine.scripting_builtins`), and the wall clock is
watched, so a script cannot hang or exhaust the process.

Names resolve to task data only; built-in functions exist only in call position
(``len(x)`` works, ``f = len`` does not), and attributes only as the allowed
methods of plain data types plus a few date fields. Usage::

    compile_expression("amount > 1000 and len(items) > 0").evaluate(data)
    compile_script("total = sum(i['price'] for i in items)").execute(data)
"""
from __future__ import annotations

import ast
import copy
import functools
import textwrap
import warnings
from dataclasses import dataclass
from typing import Any, Callable, Mapping

from engine import scripting_builtins as sb
from engine.errors import ScriptError

__all__ = ["Limits", "CompiledScript", "check_expression", "check_script",
           "compile_expression", "compile_script"]


@dataclass(frozen=True)
class Limits:
    """Bounds for checking and running one condition or script."""

    max_source_chars: int = 20_000
    max_nesting: int = 40          # AST depth cap, checked statically
    max_steps: int = 1_000_000     # node evaluations + loop iterations per run
    max_seconds: float = 2.0       # wall clock per run (checked every N steps)
    max_collection: int = 100_000  # max len of any str/list/dict/set/tuple produced
    max_int_bits: int = 4_096      # max bit length of any int produced


def _parse(source: str, limits: Limits, script: bool) -> ast.AST:
    if not isinstance(source, str):
        raise ScriptError("the source must be a string")
    if len(source) > limits.max_source_chars:
        raise ScriptError(f"source is longer than {limits.max_source_chars} characters")
    text = textwrap.dedent(source) if script else source.strip()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            tree = ast.parse(text, mode="exec" if script else "eval")
        sb.check_depth(tree, limits.max_nesting)
    except SyntaxError as err:
        raise ScriptError(f"syntax error: {err.msg}", line=err.lineno) from None
    except (RecursionError, MemoryError):
        raise ScriptError("source is nested too deeply to parse") from None
    except ValueError as err:
        raise ScriptError(f"cannot parse: {err}") from None
    sb.Checker(limits, script).visit(tree)
    return tree


class _Break(BaseException):
    """Raised by ``break``; never escapes a loop (checked at deploy time)."""


class _Continue(BaseException):
    """Raised by ``continue``."""


def _at(err: ScriptError, node: Any) -> ScriptError:
    """``err`` with the line of ``node`` if it has none yet."""
    if err.line is not None:
        return err
    return ScriptError(err.reason, element_id=err.element_id, line=getattr(node, "lineno", None))


class _Run:
    """One evaluation: the names it sees, its comprehension scopes and its budget."""

    def __init__(self, names: Any, budget: sb.Budget) -> None:
        self.names = names
        self.scopes: list[dict[str, Any]] = []
        self.b = budget

    # -- expressions --
    def eval(self, node: Any) -> Any:
        try:
            self.b.tick()
            return _EVAL[type(node)](self, node)
        except ScriptError as err:
            raise _at(err, node) from None
        except Exception as err:
            raise ScriptError(sb.describe(err), line=node.lineno) from None

    def load(self, name: str) -> Any:
        for scope in reversed(self.scopes):
            if name in scope:
                return scope[name]
        try:
            return self.names[name]
        except KeyError:
            pass
        if name in sb.BUILTINS:
            raise ScriptError(f"built-in '{name}' can only be called")
        raise ScriptError(f"name '{name}' is not defined")

    def bool_op(self, node: ast.BoolOp) -> Any:
        value: Any = None
        for part in node.values:
            value = self.eval(part)
            if bool(value) is (type(node.op) is ast.Or):
                return value
        return value

    def compare(self, node: ast.Compare) -> bool:
        left = self.eval(node.left)
        for op, right_node in zip(node.ops, node.comparators):
            right = self.eval(right_node)
            if not sb.compare(type(op), left, right, self.b):
                return False
            left = right
        return True

    def unary(self, node: ast.UnaryOp) -> Any:
        value = self.eval(node.operand)
        op = type(node.op)
        if op is ast.Not:
            return not value
        return self.b.new(-value if op is ast.USub else +value if op is ast.UAdd else ~value)

    def index(self, node: Any) -> Any:
        if type(node) is not ast.Slice:
            return self.eval(node)
        return slice(*(None if n is None else self.eval(n)
                       for n in (node.lower, node.upper, node.step)))

    def call(self, node: ast.Call) -> Any:
        func = node.func
        receiver = self.eval(func.value) if type(func) is ast.Attribute else None
        args = [self.eval(arg) for arg in node.args]
        kwargs = {kw.arg: self.eval(kw.value) for kw in node.keywords}
        if type(func) is ast.Name:
            return sb.BUILTINS[func.id](*args, **kwargs)
        return sb.call_method(receiver, func.attr, args, kwargs)

    def fstring(self, node: ast.JoinedStr) -> str:
        parts = []
        for part in node.values:
            if type(part) is ast.Constant:
                parts.append(part.value)
            else:
                value = self.eval(part.value)
                parts.append(sb.format_value(value, part.conversion, sb.format_spec(part) or "",
                                             self.b))
        self.b.size(sum(map(len, parts)))
        return self.b.new("".join(parts))

    def comprehension(self, node: Any) -> Any:
        kind = type(node)
        out: Any = {} if kind is ast.DictComp else set() if kind is ast.SetComp else []
        first = self.eval(node.generators[0].iter)
        self.scopes.append({})
        try:
            self.generate(node, 0, first, out)
        finally:
            self.scopes.pop()
        return self.b.new(out)

    def generate(self, node: Any, i: int, iterable: Any, out: Any) -> None:
        gen = node.generators[i]
        scope = self.scopes[-1]
        for item in sb.iterate(iterable):
            self.b.tick()
            self.assign(gen.target, item, scope)
            if not all(self.eval(cond) for cond in gen.ifs):
                continue
            if i + 1 < len(node.generators):
                self.generate(node, i + 1, self.eval(node.generators[i + 1].iter), out)
            elif type(out) is dict:
                key = self.b.key(self.eval(node.key))
                self.b.size(len(out) + 1)
                out[key] = self.eval(node.value)
            else:
                value = self.eval(node.elt)
                self.b.size(len(out) + 1)
                if type(out) is set:
                    out.add(self.b.key(value))
                else:
                    out.append(value)

    # -- statements --
    def run(self, body: list[ast.stmt]) -> None:
        for stmt in body:
            try:
                self.b.tick()
                _EXEC[type(stmt)](self, stmt)
            except ScriptError as err:
                raise _at(err, stmt) from None
            except Exception as err:
                raise ScriptError(sb.describe(err), line=stmt.lineno) from None

    def assign(self, target: Any, value: Any, scope: dict[str, Any] | None = None) -> None:
        t = type(target)
        if t is ast.Name:
            (self.names if scope is None else scope)[target.id] = value
        elif t is ast.Subscript:
            sb.setitem(self.eval(target.value), self.index(target.slice), value, self.b)
        else:
            items = sb.unpack(value, len(target.elts))
            for sub, item in zip(target.elts, items):
                self.assign(sub, item, scope)

    def aug_assign(self, node: ast.AugAssign) -> None:
        target, op = node.target, type(node.op)
        if type(target) is ast.Name:
            current = self.load(target.id)
        else:
            container, key = self.eval(target.value), self.index(target.slice)
            current = sb.getitem(container, key, self.b)
        value = self.eval(node.value)
        if op is ast.Add and type(current) is list:
            sb.extend_list(current, value)
            result = current
        else:
            result = sb.binop(op, current, value, self.b)
            grown = len(value) if op is ast.Add and type(value) is str else None
            self.b.new(result, grown)
        if type(target) is ast.Name:
            self.names[target.id] = result
        else:
            sb.setitem(container, key, result, self.b)

    def delete(self, target: Any) -> None:
        t = type(target)
        if t is ast.Delete or t is ast.Tuple or t is ast.List:
            for sub in target.targets if t is ast.Delete else target.elts:
                self.delete(sub)
        elif t is ast.Subscript:
            sb.delitem(self.eval(target.value), self.index(target.slice), self.b)
        elif target.id in self.names:
            del self.names[target.id]
        else:
            raise ScriptError(f"name '{target.id}' is not defined")

    def loop(self, node: Any) -> None:
        """``for`` and ``while``; every iteration is a step."""
        items = iter(sb.iterate(self.eval(node.iter))) if type(node) is ast.For else None
        while True:
            self.b.tick()
            if items is None:
                if not self.eval(node.test):
                    break
            else:
                item = next(items, _END)
                if item is _END:
                    break
                self.assign(node.target, item)
            try:
                self.run(node.body)
            except _Break:
                return
            except _Continue:
                pass
        self.run(node.orelse)

    def if_(self, node: ast.If) -> None:
        self.run(node.body if self.eval(node.test) else node.orelse)

    def break_(self, node: ast.Break) -> None:
        raise _Break

    def continue_(self, node: ast.Continue) -> None:
        raise _Continue


_END = object()


def _seq(kind: type) -> Callable[[_Run, Any], Any]:
    def build(run: _Run, node: Any) -> Any:
        items = [run.eval(e) for e in node.elts]
        if kind is set:
            for item in items:
                run.b.key(item)
        return run.b.new(kind(items))
    return build


def _dict_display(run: _Run, node: ast.Dict) -> dict[Any, Any]:
    out = {}
    for key, value in zip(node.keys, node.values):
        out[run.b.key(run.eval(key))] = run.eval(value)
    return run.b.new(out)


_EVAL: dict[type, Callable[[_Run, Any], Any]] = {
    ast.Constant: lambda run, node: node.value,
    ast.Name: lambda run, node: run.load(node.id),
    ast.BoolOp: _Run.bool_op, ast.Compare: _Run.compare, ast.UnaryOp: _Run.unary,
    ast.BinOp: lambda run, node: run.b.new(sb.binop(
        type(node.op), run.eval(node.left), run.eval(node.right), run.b)),
    ast.IfExp: lambda run, node: run.eval(node.body if run.eval(node.test) else node.orelse),
    ast.List: _seq(list), ast.Tuple: _seq(tuple), ast.Set: _seq(set), ast.Dict: _dict_display,
    ast.Subscript: lambda run, node: sb.getitem(run.eval(node.value), run.index(node.slice),
                                                run.b),
    ast.Attribute: lambda run, node: sb.get_attr(run.eval(node.value), node.attr),
    ast.Call: _Run.call, ast.JoinedStr: _Run.fstring,
    ast.ListComp: _Run.comprehension, ast.SetComp: _Run.comprehension,
    ast.DictComp: _Run.comprehension, ast.GeneratorExp: _Run.comprehension,
}
_EXEC: dict[type, Callable[[_Run, Any], Any]] = {
    ast.Expr: lambda run, node: run.eval(node.value),
    ast.Assign: lambda run, node: [run.assign(t, v) for v in [run.eval(node.value)]
                                   for t in node.targets],
    ast.AugAssign: _Run.aug_assign, ast.Delete: _Run.delete, ast.If: _Run.if_,
    ast.For: _Run.loop, ast.While: _Run.loop, ast.Pass: lambda run, node: None,
    ast.Break: _Run.break_, ast.Continue: _Run.continue_,
}


class CompiledScript:
    """A checked condition or script, ready to run any number of times.

    :ivar source: the text it was compiled from.
    :ivar limits: the :class:`Limits` each run is held to.
    """

    def __init__(self, source: str, limits: Limits, script: bool) -> None:
        self.source = source
        self.limits = limits
        self.is_script = script
        self._tree: Any = _parse(source, limits, script)

    def __repr__(self) -> str:
        kind = "script" if self.is_script else "expression"
        return f"<CompiledScript {kind} {self.source[:40]!r}>"

    def evaluate(self, names: Mapping[str, Any]) -> Any:
        """Evaluate the expression over ``names`` and return its value.

        :raises ScriptError: on any failure, with the line where it happened.
        """
        if self.is_script:
            raise ScriptError("a script has no value; use execute()")
        return self._run(names, lambda run: run.eval(self._tree.body))

    def execute(self, names: dict[str, Any]) -> None:
        """Run the script; assignments write into ``names`` (the task data).

        The script runs on a deep copy, so ``names`` changes (in place) only if it
        succeeds; a failed script leaves it exactly as it was.

        :raises ScriptError: on any failure, with the line where it happened.
        """
        if not self.is_script:
            raise ScriptError("an expression cannot be executed; use evaluate()")
        try:
            work = copy.deepcopy(dict(names))
        except Exception as err:
            raise ScriptError(f"the task data cannot be copied: {sb.describe(err)}") from None
        self._run(work, lambda run: run.run(self._tree.body) or work)
        for key in [key for key in names if key not in work]:
            del names[key]
        names.update(work)

    def _run(self, names: Any, body: Callable[[_Run], Any]) -> Any:
        budget = sb.Budget(self.limits)
        token = sb.activate(budget)
        try:
            result = body(_Run(names, budget))
            if sb.measure(result, budget.max_weight) > budget.max_weight:
                what = "task data" if self.is_script else "result"
                raise ScriptError(f"the {what} is too large (more than {budget.max_weight} "
                                  f"elements counting nested ones)")
        except ScriptError:
            raise
        except Exception as err:   # RecursionError, MemoryError and anything unforeseen
            raise ScriptError(sb.describe(err)) from None
        finally:
            sb.deactivate(token)
        return None if self.is_script else result


@functools.lru_cache(maxsize=512)
def compile_expression(source: str, limits: Limits = Limits()) -> CompiledScript:
    """Check and parse a condition; cached on ``(source, limits)``.

    :raises ScriptError: if the expression is refused.
    """
    return CompiledScript(source, limits, script=False)


@functools.lru_cache(maxsize=512)
def compile_script(source: str, limits: Limits = Limits()) -> CompiledScript:
    """Check and parse a script; cached on ``(source, limits)``.

    :raises ScriptError: if the script is refused.
    """
    return CompiledScript(source, limits, script=True)


def check_expression(source: str, limits: Limits = Limits()) -> None:
    """Refuse (raise :class:`ScriptError` with a reason and line) a bad condition."""
    compile_expression(source, limits)


def check_script(source: str, limits: Limits = Limits()) -> None:
    """Refuse (raise :class:`ScriptError` with a reason and line) a bad script."""
    compile_script(source, limits)
