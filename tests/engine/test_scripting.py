"""Normal behaviour of the restricted evaluator (attacks are in tests/security)."""
from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from engine import scripting_builtins
from engine.errors import ScriptError
from engine.scripting import (CompiledScript, Limits, check_expression, check_script,
                              compile_expression, compile_script)


def ev(source: str, **names: Any) -> Any:
    return compile_expression(source).evaluate(names)


def run(source: str, **names: Any) -> dict[str, Any]:
    compile_script(source).execute(names)
    return names


def fails(source: str, mode: str = "script", **names: Any) -> ScriptError:
    with pytest.raises(ScriptError) as info:
        if mode == "expr":
            ev(source, **names)
        else:
            run(source, **names)
    return info.value


# --- expressions -------------------------------------------------------------

@pytest.mark.parametrize("source, expected", [
    ("1 + 2 * 3", 7), ("7 // 2", 3), ("7 % 3", 1), ("7 / 2", 3.5), ("2 ** 10", 1024),
    ("2 ** -1", 0.5), ("-5 + +2", -3), ("~5", -6), ("6 & 3", 2), ("6 | 3", 7), ("6 ^ 3", 5),
    ("1 << 10", 1024), ("1024 >> 3", 128), ("'ab' + 'c'", "abc"), ("'ab' * 2", "abab"),
    ("[1] * 3", [1, 1, 1]), ("(1, 2) + (3,)", (1, 2, 3)), ("{1, 2} | {3}", {1, 2, 3}),
    ("{1, 2} - {2}", {1}), ("not 0", True), ("1 if 0 else 2", 2),
    ("0 or 'x'", "x"), ("'' and 1", ""), ("1 and 2 and 3", 3),
    ("1 < 2 < 3", True), ("1 < 3 < 2", False), ("2 == 2.0", True), ("None is None", True),
    ("1 is not None", True), ("'a' in 'cat'", True), ("3 not in [1, 2]", True),
    ("[1, 2] < [1, 3]", True), ("{'a': 1} == {'a': 1}", True),
    ("'abcdef'[1:4]", "bcd"), ("[1, 2, 3][::-1]", [3, 2, 1]), ("(1, 2, 3)[-1]", 3),
    ("{'k': [10, 20]}['k'][1]", 20), ("10 ** 300 > 1", True),
])
def test_operators(source: str, expected: Any) -> None:
    result = ev(source)
    assert result == expected and type(result) is type(expected)


@pytest.mark.parametrize("source, names, expected", [
    ("amount > 1000 and source == '上级点'", {"amount": 1500, "source": "上级点"}, True),
    ("amount > 1000 and source == '上级点'", {"amount": 1500, "source": "下级"}, False),
    ("len(items) > 0", {"items": []}, False),
    ("vote['for'] * 2 > vote['present']", {"vote": {"for": 6, "present": 11}}, True),
    ("score < 70", {"score": 69.5}, True),
    ("'x' in data", {"data": {"x": None}}, True),
    ("type == 'urgent'", {"type": "urgent"}, True),
    ("approver in approvers", {"approver": "李四", "approvers": ["张三", "李四"]}, True),
])
def test_conditions(source: str, names: dict[str, Any], expected: bool) -> None:
    assert compile_expression(source).evaluate(names) is expected


def test_short_circuit_skips_unknown_names() -> None:
    assert ev("False and missing") is False
    assert ev("True or missing") is True
    assert ev("x if True else missing", x=1) == 1


def test_expression_whitespace_is_ignored() -> None:
    assert ev("\n    amount > 1\n  ", amount=2) is True


def test_evaluate_does_not_change_names() -> None:
    names = {"items": [3, 1, 2]}
    assert compile_expression("sorted(items)[0]").evaluate(names) == 1
    assert names == {"items": [3, 1, 2]}


def test_comprehensions() -> None:
    assert ev("[x * x for x in items if x % 2]", items=[1, 2, 3]) == [1, 9]
    assert ev("{x % 3 for x in range(10)}") == {0, 1, 2}
    assert ev("{k: v for k, v in d.items() if v}", d={"a": 1, "b": 0}) == {"a": 1}
    assert ev("[(i, j) for i in range(3) for j in range(i)]") == [(1, 0), (2, 0), (2, 1)]
    assert ev("sum(x for x in items)", items=[1, 2, 3]) == 6
    assert ev("any(x > 2 for x in items)", items=[1, 2, 3]) is True
    assert ev("all(x > 2 for x in items)", items=[1, 2, 3]) is False
    assert ev("[x for x in x]", x=[1, 2]) == [1, 2]


def test_comprehension_variables_do_not_leak() -> None:
    data = run("y = [i for i in range(3)]")
    assert data == {"y": [0, 1, 2]}


@pytest.mark.parametrize("source, expected", [
    ("len('abc')", 3), ("min(3, 1, 2)", 1), ("max([3, 1, 2])", 3), ("min([], default=0)", 0),
    ("sum([1, 2.5])", 3.5), ("sum([1, 2], 10)", 13), ("abs(-3)", 3), ("round(2.675, 2)", 2.67),
    ("round(7)", 7), ("int('42')", 42), ("int('ff', 16)", 255), ("int(3.9)", 3),
    ("float('1.5')", 1.5), ("str(12)", "12"), ("str([1, 'a'])", "[1, 'a']"), ("bool([])", False),
    ("list('ab')", ["a", "b"]), ("dict(a=1)", {"a": 1}), ("dict([('a', 1)])", {"a": 1}),
    ("set([1, 1])", {1}), ("tuple([1, 2])", (1, 2)),
    ("sorted([3, 1, 2], reverse=True)", [3, 2, 1]),
    ("reversed([1, 2])", [2, 1]), ("range(3)", [0, 1, 2]), ("range(5, 0, -2)", [5, 3, 1]),
    ("enumerate('ab', 1)", [(1, "a"), (2, "b")]), ("zip([1, 2], 'ab')", [(1, "a"), (2, "b")]),
    ("any([])", False), ("all([])", True),
])
def test_builtins(source: str, expected: Any) -> None:
    result = ev(source)
    assert result == expected and type(result) is type(expected)


@pytest.mark.parametrize("source, expected", [
    ("' Ab '.strip().lower()", "ab"), ("'ab'.upper()", "AB"), ("'a,b'.split(',')", ["a", "b"]),
    ("'-'.join(['a', 'b'])", "a-b"), ("'aXa'.replace('a', 'b')", "bXb"), ("'abc'.find('c')", 2),
    ("'abc'.startswith('ab')", True), ("'abc'.endswith(('x', 'c'))", True),
    ("'aaa'.count('a')", 3), ("'123'.isdigit()", True), ("'7'.zfill(3)", "007"),
    ("'hello world'.title()", "Hello World"), ("'xxa'.lstrip('x')", "a"),
    ("[3, 1, 2].index(1)", 1), ("[1, 1].count(1)", 2), ("{'a': 1}.get('b', 0)", 0),
    ("{'a': 1}.keys()", ["a"]), ("{'a': 1}.values()", [1]), ("{'a': 1}.items()", [("a", 1)]),
    ("{1}.union([2])", {1, 2}), ("{1, 2}.intersection({2})", {2}), ("{1, 2}.difference([1])", {2}),
])
def test_methods(source: str, expected: Any) -> None:
    assert ev(source) == expected


def test_fstrings() -> None:
    assert ev('f"{x:.2f}"', x=3.14159) == "3.14"
    assert ev('f"{n:>5}|{n:<3}|{n:^5}"', n=7) == "    7|7  |  7  "
    assert ev('f"{n:,}"', n=1234567) == "1,234,567"
    assert ev('f"{name!r} has {len(items)} items"', name="张三", items=[1]) == "'张三' has 1 items"
    assert ev('f"{d}"', d={"a": [1]}) == "{'a': [1]}"
    assert ev('f"{x:08.3f}"', x=3.14159) == "0003.142"


def test_dates() -> None:
    today = dt.date(2024, 3, 1)
    now = dt.datetime(2024, 3, 1, 14, 30, 5)
    assert ev("due > today", due=dt.date(2024, 3, 2), today=today) is True
    assert ev("today + week", today=today, week=dt.timedelta(days=7)) == dt.date(2024, 3, 8)
    assert ev("(due - today).days", due=dt.date(2024, 3, 11), today=today) == 10
    assert ev("(today.year, today.month, today.day)", today=today) == (2024, 3, 1)
    assert ev("(now.hour, now.minute, now.second)", now=now) == (14, 30, 5)
    assert ev("today.weekday()", today=today) == 4
    assert ev("today.isoformat()", today=today) == "2024-03-01"
    assert ev("now.date() == today", now=now, today=today) is True
    assert ev("now - now", now=now) == dt.timedelta(0)
    assert ev("f'{today}'", today=today) == "2024-03-01"


# --- scripts -----------------------------------------------------------------

def test_script_assignments_write_task_data() -> None:
    data = run("total = price * qty\nlabel = f'{total} yuan'\na, (b, c) = 1, [2, 3]\n"
               "x = y = 0", price=3, qty=4)
    assert data == {"price": 3, "qty": 4, "total": 12, "label": "12 yuan", "a": 1, "b": 2,
                    "c": 3, "x": 0, "y": 0}


def test_loops_and_branches() -> None:
    data = run("""
total = 0
for i in range(10):
    if i == 2:
        continue
    elif i > 6:
        break
    total += i
else:
    total = -1
n = 0
while n < 5:
    n += 1
else:
    done = True
for k, v in pairs:
    pass
""", pairs=[("a", 1)])
    assert data["total"] == 0 + 1 + 3 + 4 + 5 + 6
    assert data["n"] == 5 and data["done"] is True
    assert (data["k"], data["v"]) == ("a", 1)


def test_mutation_of_lists_and_dicts() -> None:
    data = run("""
d['k'] = 'v'
l[0] = 9
l.append(4)
l.extend([5, 6])
l.insert(0, 0)
last = l.pop()
l.remove(9)
l.sort(reverse=True)
d.update({'u': 1}, w=2)
d.setdefault('s', [])
d['s'].append(1)
gone = d.pop('k')
del d['w']
l[1:3] = [7, 7, 7]
del l[0]
s.add(3)
s.discard(1)
d['n'] = 1
d['n'] += 10
scratch = 1
del scratch
""", d={}, l=[1, 2, 3], s={1, 2})
    assert data["d"] == {"u": 1, "s": [1], "n": 11}
    assert data["gone"] == "v" and data["last"] == 6
    assert data["l"] == [7, 7, 7, 2, 0]
    assert data["s"] == {2, 3}
    assert "scratch" not in data


def test_failed_script_leaves_data_unchanged() -> None:
    data = {"items": [1], "d": {"k": 1}, "keep": 1}
    with pytest.raises(ScriptError):
        compile_script("items.append(2)\nd['k'] = 2\ndel keep\nnew = 1\nx = 1 / 0"
                       ).execute(data)
    assert data == {"items": [1], "d": {"k": 1}, "keep": 1}


def test_successful_script_updates_data_in_place() -> None:
    data = {"items": [1], "gone": 1}
    same = data
    compile_script("items.append(2)\ndel gone\nnew = 1").execute(data)
    assert same is data and data == {"items": [1, 2], "new": 1}


def test_list_plus_equals_extends_in_place() -> None:
    data = run("alias = items\nitems += [3]", items=[1, 2])
    assert data["alias"] is data["items"] and data["items"] == [1, 2, 3]


def test_indented_script_is_dedented() -> None:
    assert run("\n    a = 1\n    if a:\n        b = 2\n") == {"a": 1, "b": 2}


def test_builtin_names_are_data_names_when_assigned() -> None:
    data = run("len = 3\nsize = len([1, 2])\ncopy = len")
    assert data == {"len": 3, "size": 2, "copy": 3}


def test_mutating_methods_are_refused_in_conditions() -> None:
    with pytest.raises(ScriptError, match="append"):
        check_expression("items.append(1)")
    check_script("items.append(1)")


# --- errors ------------------------------------------------------------------

@pytest.mark.parametrize("source, reason, line", [
    ("a = 1\nb = 2\nc = x + 1", "name 'x' is not defined", 3),
    ("d = {}\n\nv = d['missing']", "key 'missing' not found", 3),
    ("x = 1 / 0", "division by zero", 1),
    ("x = 1\ny = 'a' + x", 'can only concatenate str (not "int") to str', 2),
    ("l = []\nx = l[3]", "list index out of range", 2),
    ("a, b = [1, 2, 3]", "expected 2 values to unpack, got 3", 1),
    ("x = int('abc')", "invalid literal for int() with base 10: 'abc'", 1),
    ("x = 5\nx.lower()", "'int' object has no method 'lower'", 2),
    ("x = (1).year", "'int' object has no attribute 'year'", 1),
    ("f = len", "built-in 'len' can only be called", 1),
    ("for i in 5:\n    pass", "'int' object is not iterable", 1),
    ("x = sorted([1], key=1)", "sorted() got an unexpected keyword argument 'key'", 1),
    ("x = [1, 'a']\nx.sort()", "'<' not supported between instances of 'str' and 'int'", 2),
    ("d = {}\nfor k in d:\n    pass\ndel nothing", "name 'nothing' is not defined", 4),
])
def test_runtime_errors_have_reason_and_line(source: str, reason: str, line: int) -> None:
    err = fails(source)
    assert (err.reason, err.line) == (reason, line)
    assert str(err) == f"line {line}: {reason}"


def test_error_messages_stay_short() -> None:
    err = fails("d = {}\nx = d['k' * 10**5]")
    assert err.line == 2 and len(err.reason) < 100


def test_error_inside_multiline_statement_names_inner_line() -> None:
    err = fails("x = [\n  1,\n  missing,\n]")
    assert (err.reason, err.line) == ("name 'missing' is not defined", 3)


def test_unknown_name_in_condition() -> None:
    err = fails("amount > 1", mode="expr")
    assert (err.reason, err.line) == ("name 'amount' is not defined", 1)


def test_syntax_errors_are_script_errors() -> None:
    with pytest.raises(ScriptError) as info:
        check_script("x = 1\nif x\n    y = 2")
    assert info.value.reason.startswith("syntax error") and info.value.line == 2
    with pytest.raises(ScriptError):
        check_expression("x = 1")


def test_wrong_mode_is_a_script_error() -> None:
    with pytest.raises(ScriptError):
        compile_script("x = 1").evaluate({})
    with pytest.raises(ScriptError):
        compile_expression("1").execute({})


def test_internal_recursion_and_memory_errors_become_script_errors(
        monkeypatch: pytest.MonkeyPatch) -> None:
    def boom(*args: Any) -> None:
        raise RecursionError("maximum recursion depth exceeded")

    def no_memory(*args: Any) -> None:
        raise MemoryError()

    monkeypatch.setitem(scripting_builtins.BUILTINS, "abs", boom)
    monkeypatch.setitem(scripting_builtins.BUILTINS, "bool", no_memory)
    assert fails("x = 1\ny = abs(x)").reason == "data nested too deeply"
    assert fails("bool(1)", mode="expr").reason == "out of memory"


# --- limits and caching --------------------------------------------------------

def test_limits_are_respected() -> None:
    small = Limits(max_steps=100, max_collection=10, max_int_bits=64)
    with pytest.raises(ScriptError, match="step limit of 100 exceeded"):
        compile_script("for i in range(10):\n    x = [i * 2 + 1 for j in range(5)]",
                       small).execute({})
    with pytest.raises(ScriptError, match="exceeds the limit of 10"):
        compile_expression("'a' * 11", small).evaluate({})
    with pytest.raises(ScriptError, match="64 bits"):
        compile_expression("2 ** 70", small).evaluate({})
    with pytest.raises(ScriptError, match="nested more than 3 levels"):
        check_expression("[[[[1]]]]", Limits(max_nesting=3))
    with pytest.raises(ScriptError, match="longer than 5 characters"):
        check_expression("1 + 2 + 3", Limits(max_source_chars=5))
    assert compile_expression("2 ** 60", small).evaluate({}) == 2 ** 60


def test_compiled_scripts_are_cached() -> None:
    first = compile_expression("a + 1")
    assert compile_expression("a + 1") is first
    assert isinstance(first, CompiledScript) and first.source == "a + 1"
    assert compile_expression("a + 1", Limits(max_steps=10)) is not first
    assert compile_script("a = 1") is compile_script("a = 1")
    assert first.evaluate({"a": 1}) == 2 and first.evaluate({"a": 41}) == 42


def test_check_functions_accept_good_code() -> None:
    check_expression("len(items) > 0 and items[0]['ok']")
    check_script("for i in items:\n    i['seen'] = True\nn = len(items)")
