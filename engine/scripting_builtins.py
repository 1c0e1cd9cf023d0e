"""Allow-lists, the deploy-time check and bounded built-ins of :mod:`engine.scripting`.

Everything that runs here works on plain data only (``dict``, ``list``, ``str``,
numbers, dates ...), checks the size of a result *before* computing it where
that could be costly, and counts work against the :class:`Budget` of the
running script. :class:`Checker` refuses, at deploy time, every node, name,
attribute and call that is not on the allow-lists below.
"""
from __future__ import annotations

import ast
import datetime as dt
import operator
import re
import sys
import time
from contextvars import ContextVar
from itertools import chain
from typing import Any, Callable, Iterable

from engine.errors import ScriptError

INTS = frozenset({int, bool})
NUMBERS = INTS | {float}
CONTAINERS = frozenset({list, tuple, dict, set})
SIZED = CONTAINERS | {str}
VALUE_TYPES = SIZED | NUMBERS | {type(None), dt.date, dt.datetime, dt.timedelta}
FORMATTABLE = NUMBERS | {str, dt.date, dt.datetime}
#: data nested deeper than this is refused (cycles end up here too)
MAX_DATA_DEPTH = 100
_CHECK_EVERY = 1000
_MISSING: Any = object()
_BUDGET: ContextVar[Budget] = ContextVar("duban_script_budget")


class Budget:
    """Steps, work, memory and time of one run; raises :class:`ScriptError` past a limit."""

    def __init__(self, limits: Any) -> None:
        self.max_steps: int = limits.max_steps
        self.max_seconds: float = limits.max_seconds
        self.max_len: int = limits.max_collection
        self.max_bits: int = limits.max_int_bits
        self.max_weight = 10 * limits.max_collection
        self.max_bytes = 800 * limits.max_collection
        self.steps = self.work = self.bytes = 0
        self.next_check = _CHECK_EVERY
        self.deadline = time.monotonic() + limits.max_seconds

    def tick(self) -> None:
        """Count one step (a node evaluated or a loop iteration)."""
        self.steps += 1
        if self.steps > self.max_steps:
            raise ScriptError(f"step limit of {self.max_steps} exceeded (endless loop?)")
        self.work += 1
        if self.work >= self.next_check:
            self.clock()

    def charge(self, work: int) -> None:
        """Count bulk work done in one operation (for the clock, not the step limit)."""
        self.work += work
        if self.work >= self.next_check:
            self.clock()

    def clock(self) -> None:
        self.next_check = self.work + _CHECK_EVERY
        if time.monotonic() > self.deadline:
            raise ScriptError(f"time limit of {self.max_seconds:g} seconds exceeded")

    def alloc(self, nbytes: int) -> None:
        """Count memory taken by a new value; the total per run is capped."""
        self.bytes += nbytes
        if self.bytes > self.max_bytes:
            raise ScriptError(f"memory limit exceeded: the script allocated more than "
                              f"{self.max_bytes:,} bytes")
        self.charge(nbytes >> 6)

    def size(self, n: int) -> None:
        """Refuse a result of ``n`` elements (or characters) if that is too many."""
        if n > self.max_len:
            raise ScriptError(f"result of size {n} exceeds the limit of {self.max_len}")

    def bits(self, n: int) -> None:
        if n > self.max_bits:
            raise ScriptError(f"integer result of about {n} bits exceeds the limit of "
                              f"{self.max_bits} bits")

    def new(self, value: Any, nbytes: int | None = None) -> Any:
        """Check a freshly produced value (type, size) and count its memory."""
        t = type(value)
        if t is int:
            n = value.bit_length()
            if n > 64:
                self.alloc(n >> 3)
            self.bits(n)
        elif t in SIZED:
            self.size(len(value))
            self.alloc(sys.getsizeof(value) if nbytes is None else nbytes)
        elif t not in VALUE_TYPES:
            raise ScriptError(f"values of type '{t.__name__}' are not supported")
        return value

    def grow(self, container: Any, added: int) -> None:
        """Check and count ``added`` new elements going into ``container``."""
        self.size(len(container) + added)
        self.alloc(8 * added)

    def guard(self, value: Any) -> None:
        """Refuse to compare, hash or sort a value whose nested size is too big."""
        if type(value) in CONTAINERS:
            n = measure(value, self.max_weight)
            self.charge(n)
            if n > self.max_weight:
                raise ScriptError(f"value too large to compare, hash or sort (more than "
                                  f"{self.max_weight} elements counting nested ones)")

    def key(self, value: Any) -> Any:
        """Guard a value about to be hashed (only tuples hash recursively)."""
        if type(value) is tuple:
            self.guard(value)
        return value

    def guard_in(self, container: Any, item: Any) -> None:
        """Guard ``item in container`` and the list methods that compare like it."""
        tc = type(container)
        if tc is list or tc is tuple:
            if type(item) is str or type(item) in CONTAINERS:
                self.guard(container)
        elif tc is dict or tc is set:
            self.key(item)


def current() -> Budget:
    """The budget of the script running in this context."""
    return _BUDGET.get()


def activate(budget: Budget) -> Any:
    """Make ``budget`` current; returns a token for :func:`deactivate`."""
    return _BUDGET.set(budget)


def deactivate(token: Any) -> None:
    _BUDGET.reset(token)


def measure(value: Any, cap: int, shift: int = 6) -> int:
    """Count the elements of ``value``, nested ones and repeated references included.

    A string counts ``1 + len >> shift``. Counting stops soon after ``cap``.

    :raises ScriptError: for data nested deeper than :data:`MAX_DATA_DEPTH`.
    """
    total = 0
    stack = [(value, 0)]
    while stack:
        v, depth = stack.pop()
        t = type(v)
        total += 1
        if t is str:
            total += len(v) >> shift
        elif t in CONTAINERS:
            if depth >= MAX_DATA_DEPTH:
                raise ScriptError(f"data nested more than {MAX_DATA_DEPTH} levels deep "
                                  f"(or containing itself)")
            for x in (chain(v, v.values()) if t is dict else v):
                tx = type(x)
                if tx is str:
                    total += 1 + (len(x) >> shift)
                elif tx in CONTAINERS:
                    stack.append((x, depth + 1))
                else:
                    total += 1
        if total > cap:
            break
    return total


def short(value: Any) -> str:
    """A short repr of a value, for error messages."""
    t = type(value)
    if t is str:
        return repr(value if len(value) <= 60 else value[:60] + "...")
    if t in NUMBERS or value is None or (t is tuple and len(value) <= 5 and all(
            type(x) in NUMBERS or (type(x) is str and len(x) <= 30) for x in value)):
        text = repr(value)
        return text if len(text) <= 80 else f"<{t.__name__}>"
    return f"<{t.__name__}>"


def describe(exc: BaseException) -> str:
    """A clear English message for an exception raised inside a script."""
    if isinstance(exc, KeyError):
        return f"key {short(exc.args[0])} not found" if exc.args else "key not found"
    if isinstance(exc, ZeroDivisionError):
        return "division by zero"
    if isinstance(exc, RecursionError):
        return "data nested too deeply"
    if isinstance(exc, MemoryError):
        return "out of memory"
    if isinstance(exc, OverflowError) and len(exc.args) != 1:
        return "numeric result out of range"
    text = str(exc) or type(exc).__name__
    return text if len(text) <= 300 else text[:300] + "..."


def iterate(value: Any) -> Any:
    """``value`` itself if it is a data type that may be iterated."""
    if type(value) not in SIZED:
        raise TypeError(f"'{type(value).__name__}' object is not iterable")
    return value


def unpack(value: Any, n: int) -> Any:
    items = iterate(value)
    if len(items) != n:
        raise ValueError(f"expected {n} values to unpack, got {len(items)}")
    return items


def to_str(value: Any, b: Budget, conversion: str = "s") -> str:
    """``str``/``repr``/``ascii`` of a value, refused if the text would be too long."""
    t = type(value)
    if t is str and conversion == "s":
        return value
    if t in CONTAINERS:
        n = measure(value, b.max_len, shift=0)
        b.charge(n)
        b.size(n)
    text = repr(value) if conversion == "r" else ascii(value) if conversion == "a" else str(value)
    return b.new(text)


def format_value(value: Any, conversion: int, spec: str, b: Budget) -> str:
    """One ``{...}`` field of an f-string; ``spec`` was checked at deploy time."""
    if conversion != -1:
        value = to_str(value, b, chr(conversion))
    if not spec:
        return to_str(value, b)
    if type(value) not in FORMATTABLE:
        raise TypeError(f"format spec {spec!r} is not supported for '{type(value).__name__}'")
    return b.new(format(value, spec))


_BINOPS: dict[type, Callable[[Any, Any], Any]] = {
    ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul,
    ast.Div: operator.truediv, ast.FloorDiv: operator.floordiv, ast.Mod: operator.mod,
    ast.Pow: operator.pow, ast.LShift: operator.lshift, ast.RShift: operator.rshift,
    ast.BitOr: operator.or_, ast.BitXor: operator.xor, ast.BitAnd: operator.and_,
}
_CMPOPS: dict[type, Callable[[Any, Any], Any]] = {
    ast.Eq: operator.eq, ast.NotEq: operator.ne, ast.Lt: operator.lt,
    ast.LtE: operator.le, ast.Gt: operator.gt, ast.GtE: operator.ge,
}
_SEQUENCES = frozenset({str, list, tuple})


# --- allow-lists of the deploy-time check --------------------------------------

ALLOWED_NODES = frozenset({
    ast.Module, ast.Expression, ast.Expr, ast.Assign, ast.AugAssign, ast.If, ast.For,
    ast.While, ast.Break, ast.Continue, ast.Pass, ast.Delete,
    ast.BoolOp, ast.BinOp, ast.UnaryOp, ast.Compare, ast.IfExp, ast.Dict, ast.List, ast.Set,
    ast.Tuple, ast.Subscript, ast.Slice, ast.ListComp, ast.SetComp, ast.DictComp,
    ast.GeneratorExp, ast.comprehension, ast.JoinedStr, ast.FormattedValue, ast.Constant,
    ast.Name, ast.Call, ast.keyword, ast.Attribute, ast.Load, ast.Store, ast.Del,
    ast.And, ast.Or, ast.Not, ast.USub, ast.UAdd, ast.Invert, *_BINOPS, *_CMPOPS,
    ast.Is, ast.IsNot, ast.In, ast.NotIn,
})
#: how a refused node is named in the reason "... is not allowed"
REFUSED_NODES: dict[type, str] = {
    ast.Import: "import", ast.ImportFrom: "import", ast.FunctionDef: "def",
    ast.AsyncFunctionDef: "def", ast.Lambda: "lambda", ast.ClassDef: "class",
    ast.Global: "global", ast.Nonlocal: "nonlocal", ast.With: "with", ast.AsyncWith: "with",
    ast.Try: "try", ast.TryStar: "try", ast.Raise: "raise", ast.Return: "return",
    ast.Yield: "yield", ast.YieldFrom: "yield", ast.Await: "await", ast.AsyncFor: "async for",
    ast.Assert: "assert", ast.NamedExpr: "the := operator", ast.Starred: "* unpacking",
    ast.MatMult: "the @ operator", ast.Match: "match", ast.AnnAssign: "an annotation",
}
#: names refused everywhere, even as data names
DENIED_NAMES = frozenset({
    "eval", "exec", "compile", "open", "globals", "locals", "vars", "getattr", "setattr",
    "delattr", "hasattr", "super", "breakpoint", "dir", "memoryview", "bytearray", "bytes",
    "classmethod", "staticmethod", "callable", "iter", "__builtins__",
})


def binop(op: type, x: Any, y: Any, b: Budget) -> Any:
    """``x <op> y`` with the size of the result checked before it is computed."""
    tx, ty = type(x), type(y)
    if op is ast.Add:
        if tx in _SEQUENCES and tx is ty:
            b.size(len(x) + len(y))
    elif op is ast.Mult:
        if tx in _SEQUENCES and ty in INTS:
            b.size(len(x) * max(y, 0))
        elif ty in _SEQUENCES and tx in INTS:
            b.size(len(y) * max(x, 0))
    elif op is ast.Pow:
        if tx in INTS and ty in INTS and y > 0 and abs(x) > 1:
            b.bits((abs(x).bit_length() - 1) * y + 1)
    elif op is ast.LShift:
        if tx in INTS and ty in INTS and x and y > 0:
            b.bits(abs(x).bit_length() + y)
    elif op is ast.Mod and tx is str:
        raise TypeError("the % operator is not allowed on strings; use an f-string")
    return _BINOPS[op](x, y)


def compare(op: type, x: Any, y: Any, b: Budget) -> bool:
    """``x <op> y`` for one comparison operator, guarding costly comparisons."""
    if op is ast.Is:
        return x is y
    if op is ast.IsNot:
        return x is not y
    if op is ast.In or op is ast.NotIn:
        if type(y) not in SIZED:
            raise TypeError(f"argument of type '{type(y).__name__}' is not iterable")
        b.guard_in(y, x)
        b.charge(len(y))
        return (x in y) is (op is ast.In)
    if type(x) in CONTAINERS and type(y) in CONTAINERS:
        b.guard(x)
        b.guard(y)
    return _CMPOPS[op](x, y)


def getitem(obj: Any, key: Any, b: Budget) -> Any:
    if type(obj) is dict:
        b.key(key)
    elif type(obj) not in _SEQUENCES:
        raise TypeError(f"'{type(obj).__name__}' object is not subscriptable")
    if type(key) is slice:
        return b.new(obj[key])
    return obj[key]


def setitem(obj: Any, key: Any, value: Any, b: Budget) -> None:
    if type(obj) is dict:
        if b.key(key) not in obj:
            b.grow(obj, 1)
    elif type(obj) is list:
        if type(key) is slice:
            value = list(iterate(value))
            b.grow(obj, len(value))
    else:
        raise TypeError(f"'{type(obj).__name__}' object does not support item assignment")
    obj[key] = value


def delitem(obj: Any, key: Any, b: Budget) -> None:
    if type(obj) is dict:
        b.key(key)
    elif type(obj) is not list:
        raise TypeError(f"'{type(obj).__name__}' object does not support item deletion")
    del obj[key]


ATTRIBUTES: dict[type, frozenset[str]] = {
    dt.date: frozenset({"year", "month", "day"}),
    dt.datetime: frozenset({"year", "month", "day", "hour", "minute", "second"}),
    dt.timedelta: frozenset({"days", "seconds"}),
}
#: every attribute that may be read without calling it
ATTRIBUTE_NAMES = frozenset().union(*ATTRIBUTES.values())


def get_attr(value: Any, name: str) -> Any:
    if name not in ATTRIBUTES.get(type(value), ()):
        raise TypeError(f"'{type(value).__name__}' object has no attribute '{name}'")
    return getattr(value, name)


# --- built-in functions -----------------------------------------------------

BUILTINS: dict[str, Callable[..., Any]] = {}


def _builtin(name: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    def register(func: Callable[..., Any]) -> Callable[..., Any]:
        func.__name__ = func.__qualname__ = name
        BUILTINS[name] = func
        return func
    return register


for _name, _func in {"len": len, "abs": abs, "float": float, "bool": bool,
                     "any": any, "all": all}.items():
    BUILTINS[_name] = _func          # safe as they are on data types


def _minmax(func: Callable[..., Any], args: tuple[Any, ...], default: Any) -> Any:
    if not args:
        raise TypeError(f"{func.__name__} expected at least 1 argument, got 0")
    items = iterate(args[0]) if len(args) == 1 else args
    current().guard(items)
    if default is _MISSING:
        return func(items)
    return func(items, default=default)


@_builtin("min")
def _min(*args: Any, default: Any = _MISSING) -> Any:
    return _minmax(min, args, default)


@_builtin("max")
def _max(*args: Any, default: Any = _MISSING) -> Any:
    return _minmax(max, args, default)


@_builtin("sum")
def _sum(iterable: Any, /, start: Any = 0) -> Any:
    items = iterate(iterable)
    if type(start) not in NUMBERS or not frozenset(map(type, items)) <= NUMBERS:
        raise TypeError("sum() can only add numbers")
    current().charge(len(items))
    return current().new(sum(items, start))


@_builtin("round")
def _round(number: Any, ndigits: Any = None) -> Any:
    if type(ndigits) in INTS and abs(ndigits) > 1000:
        raise ValueError("round() ndigits must be between -1000 and 1000")
    return current().new(round(number, ndigits))


@_builtin("int")
def _int(value: Any = 0, /, base: Any = _MISSING) -> int:
    if type(value) is str and len(value) > current().max_bits + 100:
        raise ValueError("text too long to convert to int")
    return current().new(int(value) if base is _MISSING else int(value, base))


@_builtin("str")
def _str(value: Any = "", /) -> str:
    return to_str(value, current())


@_builtin("list")
def _list(iterable: Any = (), /) -> list[Any]:
    return current().new(list(iterate(iterable)))


@_builtin("tuple")
def _tuple(iterable: Any = (), /) -> tuple[Any, ...]:
    return current().new(tuple(iterate(iterable)))


@_builtin("set")
def _set(iterable: Any = (), /) -> set[Any]:
    current().guard(iterate(iterable))
    return current().new(set(iterable))


@_builtin("dict")
def _dict(iterable: Any = (), /, **kwargs: Any) -> dict[Any, Any]:
    current().guard(iterate(iterable))
    return current().new(dict(iterable, **kwargs))


@_builtin("sorted")
def _sorted(iterable: Any, /, *, reverse: Any = False) -> list[Any]:
    items = current().new(list(iterate(iterable)))
    current().guard(items)
    items.sort(reverse=reverse)
    return items


@_builtin("reversed")
def _reversed(sequence: Any, /) -> list[Any]:
    return current().new(list(reversed(iterate(sequence))))


@_builtin("range")
def _range(*args: Any) -> list[int]:
    if not all(type(a) in INTS for a in args):
        raise TypeError("range() arguments must be integers")
    r = range(*args)
    n = max(0, (r.stop - r.start + r.step - (1 if r.step > 0 else -1)) // r.step)
    b = current()
    b.size(n)
    b.alloc(n * (max(abs(r.start), abs(r.stop)).bit_length() >> 3))
    return b.new(list(r))


@_builtin("enumerate")
def _enumerate(iterable: Any, /, start: Any = 0) -> list[tuple[int, Any]]:
    items = iterate(iterable)
    big = abs(start).bit_length() >> 3 if type(start) in INTS else 0
    current().alloc((64 + big) * len(items))
    return current().new(list(enumerate(items, start)))


@_builtin("zip")
def _zip(*iterables: Any) -> list[tuple[Any, ...]]:
    seqs = [iterate(x) for x in iterables]
    n = min(map(len, seqs), default=0)
    current().alloc((40 + 8 * len(seqs)) * n)
    return current().new(list(zip(*seqs)))


# --- methods ----------------------------------------------------------------

def _join(sep: str, iterable: Any, /) -> str:
    items = iterate(iterable)
    if not frozenset(map(type, items)) <= {str}:
        raise TypeError("join() accepts only strings")
    current().size(sum(map(len, items)) + len(sep) * max(len(items) - 1, 0))
    return current().new(sep.join(items))


def _replace(s: str, old: Any, new: Any, count: Any = -1, /) -> str:
    if type(old) is not str or type(new) is not str or type(count) not in INTS:
        raise TypeError("replace() takes two strings and an optional count")
    hits = s.count(old) if old else len(s) + 1
    if count >= 0:
        hits = min(hits, count)
    current().size(len(s) + hits * (len(new) - len(old)))
    return current().new(s.replace(old, new, count))


def _zfill(s: str, width: Any, /) -> str:
    if type(width) in INTS:
        current().size(width)
    return current().new(s.zfill(width))


def _append(lst: list[Any], item: Any, /) -> None:
    current().grow(lst, 1)
    lst.append(item)


def _extend(lst: list[Any], iterable: Any, /) -> None:
    items = iterate(iterable)
    current().grow(lst, len(items))
    lst.extend(items)


extend_list = _extend


def _insert(lst: list[Any], index: Any, item: Any, /) -> None:
    current().grow(lst, 1)
    lst.insert(index, item)


def _searching(name: str) -> Callable[..., Any]:
    def method(container: Any, item: Any, /, *args: Any) -> Any:
        current().guard_in(container, item)
        return getattr(container, name)(item, *args)
    method.__name__ = method.__qualname__ = name
    return method


def _sort(lst: list[Any], /, *, reverse: Any = False) -> None:
    current().guard(lst)
    lst.sort(reverse=reverse)


def _setdefault(d: dict[Any, Any], key: Any, default: Any = None, /) -> Any:
    if current().key(key) not in d:
        current().grow(d, 1)
    return d.setdefault(key, default)


def _viewing(name: str) -> Callable[..., Any]:
    def method(d: dict[Any, Any], /) -> list[Any]:
        current().alloc(64 * len(d))
        return current().new(list(getattr(d, name)()))
    method.__name__ = method.__qualname__ = name
    return method


def _update(d: dict[Any, Any], other: Any = (), /, **kwargs: Any) -> None:
    other = {**_dict(other), **kwargs}
    current().grow(d, len(other.keys() - d.keys()))
    d.update(other)


def _add(s: set[Any], item: Any, /) -> None:
    if current().key(item) not in s:
        current().grow(s, 1)
    s.add(item)


def _set_op(name: str) -> Callable[..., Any]:
    def method(s: set[Any], /, *others: Any) -> set[Any]:
        for other in others:
            current().guard(iterate(other))
        return current().new(getattr(s, name)(*others))
    method.__name__ = method.__qualname__ = name
    return method


#: (our wrapper, or None to call the real method; whether the result is a new value)
_Method = tuple[Callable[..., Any] | None, bool]
_FRESH: _Method = (None, True)
_PLAIN: _Method = (None, False)
METHODS: dict[type, dict[str, _Method]] = {
    str: {**dict.fromkeys(("lower", "upper", "strip", "lstrip", "rstrip", "split", "title"),
                          _FRESH),
          **dict.fromkeys(("startswith", "endswith", "find", "count", "isdigit"), _PLAIN),
          "join": (_join, False), "replace": (_replace, False), "zfill": (_zfill, False)},
    list: {"append": (_append, False), "extend": (_extend, False), "insert": (_insert, False),
           "pop": _PLAIN, "remove": (_searching("remove"), False),
           "index": (_searching("index"), False), "count": (_searching("count"), False),
           "sort": (_sort, False), "reverse": _PLAIN, "copy": _FRESH},
    dict: {"get": (_searching("get"), False), "pop": (_searching("pop"), False),
           "setdefault": (_setdefault, False), "update": (_update, False), "copy": _FRESH,
           **{name: (_viewing(name), False) for name in ("keys", "values", "items")}},
    set: {"add": (_add, False), "discard": (_searching("discard"), False),
          "remove": (_searching("remove"), False),
          **{name: (_set_op(name), False) for name in ("union", "intersection", "difference")}},
    dt.date: {"isoformat": _FRESH, "weekday": _PLAIN},
    dt.datetime: {"isoformat": _FRESH, "weekday": _PLAIN, "date": _PLAIN},
    dt.timedelta: {"total_seconds": _PLAIN},
}
for _type, _methods in METHODS.items():
    for _name, (_func, _) in _methods.items():
        if _func is not None:       # name the wrappers as Python would in error messages
            _func.__name__, _func.__qualname__ = _name, f"{_type.__name__}.{_name}"
#: every method name that may be called on some type
METHOD_NAMES = frozenset().union(*METHODS.values())
#: methods that change their receiver, refused in conditions
MUTATORS = frozenset({"append", "extend", "insert", "pop", "remove", "sort", "reverse",
                      "setdefault", "update", "add", "discard"})


def call_method(receiver: Any, name: str, args: Iterable[Any], kwargs: dict[str, Any]) -> Any:
    """``receiver.name(*args, **kwargs)`` if the exact type of receiver allows it."""
    entry = METHODS.get(type(receiver), {}).get(name)
    if entry is None:
        raise TypeError(f"'{type(receiver).__name__}' object has no method '{name}'")
    func, fresh = entry
    if type(receiver) in SIZED:
        current().charge(len(receiver))
    if func is None:
        result = getattr(receiver, name)(*args, **kwargs)
        return current().new(result) if fresh else result
    return func(receiver, *args, **kwargs)


# --- the deploy-time check ----------------------------------------------------

_CONSTANT_TYPES = (str, int, float, bool, type(None))
_SPEC = re.compile(r"(?:.?[<>=^])?[-+ ]?z?#?0?(?P<width>\d*)[,_]?(?:\.(?P<prec>\d+))?"
                   r"[bcdeEfFgGnosxX%]?", re.S)
_MAX_SPEC_NUMBER = 1000
_MAX_GENERATORS = 10


class Checker:
    """Walks a parsed tree and raises :class:`ScriptError` on the first refused node."""

    def __init__(self, limits: Any, script: bool) -> None:
        self.limits = limits
        self.script = script

    def visit(self, node: ast.AST, loops: int = 0, line: int | None = None) -> None:
        t = type(node)
        line = getattr(node, "lineno", line)
        if t not in ALLOWED_NODES:
            raise ScriptError(f"{REFUSED_NODES.get(t, t.__name__)} is not allowed", line=line)
        if t is ast.Name:
            self.name(node.id, "name", line)
        elif t is ast.Attribute:
            self.name(node.attr, "attribute", line)
            if node.attr not in ATTRIBUTE_NAMES or type(node.ctx) is not ast.Load:
                raise ScriptError(f"attribute '{node.attr}' is not allowed", line=line)
        elif t is ast.Call:
            return self.call(node, loops, line)
        elif t is ast.Constant:
            self.constant(node.value, line)
        elif t is ast.FormattedValue:
            self.visit(node.value, loops, line)
            return self.spec(node, line)
        elif t is ast.Dict and None in node.keys:
            raise ScriptError("** unpacking is not allowed", line=line)
        elif t in (ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp):
            if len(node.generators) > _MAX_GENERATORS:
                raise ScriptError("too many 'for' clauses in one comprehension", line=line)
        elif t is ast.comprehension:
            if node.is_async or not _simple_target(node.target):
                raise ScriptError("a comprehension may only assign plain names", line=line)
        elif t in (ast.Break, ast.Continue) and not loops:
            raise ScriptError(f"'{t.__name__.lower()}' outside a loop", line=line)
        elif t in (ast.For, ast.While):
            for child in (getattr(node, "target", None), getattr(node, "iter", None),
                          getattr(node, "test", None), *node.body):
                if child is not None:
                    self.visit(child, loops + (child in node.body), line)
            for child in node.orelse:
                self.visit(child, loops, line)
            return None
        for child in ast.iter_child_nodes(node):
            self.visit(child, loops, line)
        return None

    def name(self, name: str, kind: str, line: int | None) -> None:
        if name.startswith("_") or (kind == "name" and name in DENIED_NAMES):
            raise ScriptError(f"{kind} '{name}' is not allowed", line=line)

    def call(self, node: ast.Call, loops: int, line: int | None) -> None:
        func = node.func
        if type(func) is ast.Name:
            self.name(func.id, "name", line)
            if func.id not in BUILTINS:
                raise ScriptError(f"calling '{func.id}' is not allowed", line=line)
        elif type(func) is ast.Attribute:
            self.name(func.attr, "attribute", line)
            if func.attr not in METHOD_NAMES:
                raise ScriptError(f"attribute '{func.attr}' is not allowed", line=line)
            if not self.script and func.attr in MUTATORS:
                raise ScriptError(f"method '{func.attr}' changes data and is not allowed "
                                  f"in a condition", line=line)
            self.visit(func.value, loops, line)
        else:
            self.visit(func, loops, line)
            raise ScriptError("only built-in functions and methods can be called", line=line)
        for arg in node.args:
            self.visit(arg, loops, line)
        for kw in node.keywords:
            if kw.arg is None:
                raise ScriptError("** arguments are not allowed", line=line)
            self.name(kw.arg, "keyword", line)
            self.visit(kw.value, loops, line)

    def constant(self, value: Any, line: int | None) -> None:
        if type(value) not in _CONSTANT_TYPES:
            raise ScriptError(f"constants of type '{type(value).__name__}' are not allowed",
                              line=line)
        if type(value) is int and value.bit_length() > self.limits.max_int_bits:
            raise ScriptError("integer constant is too large", line=line)

    def spec(self, node: ast.FormattedValue, line: int | None) -> None:
        spec = format_spec(node)
        if spec is None:
            raise ScriptError("nested fields in a format spec are not allowed", line=line)
        match = _SPEC.fullmatch(spec)
        if not match:
            raise ScriptError(f"format spec {spec!r} is not allowed", line=line)
        for number in match.group("width", "prec"):
            if number and int(number) > _MAX_SPEC_NUMBER:
                raise ScriptError(f"format spec {spec!r} is too wide", line=line)


def _simple_target(node: ast.AST) -> bool:
    """A name, or a tuple or list of simple targets."""
    if type(node) in (ast.Tuple, ast.List):
        return all(_simple_target(e) for e in node.elts)   # type: ignore[attr-defined]
    return type(node) is ast.Name


def format_spec(node: ast.FormattedValue) -> str | None:
    """The constant spec of a field, ``""`` if none, None if it has nested fields."""
    if node.format_spec is None:
        return ""
    parts = node.format_spec.values            # type: ignore[attr-defined]
    if not all(type(p) is ast.Constant and type(p.value) is str for p in parts):
        return None
    return "".join(p.value for p in parts)


def check_depth(tree: ast.AST, limit: int) -> None:
    """Refuse a tree whose statements and expressions nest deeper than ``limit``."""
    stack: list[tuple[ast.AST, int]] = [(tree, 0)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, (ast.expr, ast.stmt)):
            depth += 1
            if depth > limit:
                raise ScriptError(f"nested more than {limit} levels deep",
                                  line=getattr(node, "lineno", None))
        stack.extend((child, depth) for child in ast.iter_child_nodes(node))
