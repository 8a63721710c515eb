"""Fast paths generated from a formula's one definition (design §4, §7).

A formula in perpspec is one Python function over the arithmetic interface of
:mod:`perpspec.numeric`; it runs on ``int`` (the model) and on Z3 terms (the proofs). This
module adds a third backend: :class:`Expr` terms that *record* the operations they undergo.
:func:`generate` evaluates a formula once over symbolic inputs (``Expr`` variables, with
every parameter that is fixed for a market - its spec, the scales, the accounting variant -
passed as the constant it is), then emits the recorded expression as a plain Python
function of the remaining inputs: integer ``+ - * //``, comparisons and conditional
expressions, with the constants folded in. The generated function computes the same
integer as the definition for every input (a Hypothesis test per bundled profile checks
it); it is never written by hand, and the definition stays the one the docs show and Z3
proves.

Semantics of the recorded operations (the ones :mod:`perpspec.numeric` uses on Z3 terms):

- ``a / b`` is Z3's integer division (Euclidean); ``a % b`` Z3's ``mod`` (``0 <= r < |b|``).
  Emitted as ``a // b`` / ``a % b`` for a positive constant divisor, else through
  :func:`_ediv` / :func:`_emod`.
- ``If(c, a, b)`` is emitted as ``(a if c else b)``: only the taken branch is evaluated,
  as Z3 reads it. On ints ``ite`` evaluates both branches, so where the discarded branch
  divides by zero the definition raises ``ZeroDivisionError`` and the generated function
  returns the taken branch's value (e.g. a leverage of 0, which the engine never passes:
  ENG-AMT-01). Everywhere else the two agree exactly.
- A formula that branches on a symbolic value (``if x > 0:``), converts one with ``int()``
  or compares it by ``in``, raises :class:`NotTraceable`: it has no generated fast path, and
  the caller keeps calling the definition.

A sub-expression used more than once is computed once into a local when it cannot raise
(it has no division by a non-constant); one that can raise is repeated in place, so a
division is only evaluated where the definition evaluates it.

Rules: RND-DIV-01, RND-DIV-02 (the divisions it emits), and those of each generated formula.
"""

from __future__ import annotations

import linecache
from collections.abc import Callable, Sequence
from typing import Any

__all__ = ["Expr", "Generated", "NotTraceable", "generate", "is_expr"]


class NotTraceable(TypeError):
    """The formula branches on (or converts) a symbolic value: no fast path is generated."""


# operator -> (arity, python template); templates see fully parenthesised operands
_BINARY = {
    "+": "({} + {})",
    "-": "({} - {})",
    "*": "({} * {})",
    "//": "({} // {})",
    "%": "({} % {})",
    "<": "({} < {})",
    "<=": "({} <= {})",
    ">": "({} > {})",
    ">=": "({} >= {})",
    "==": "({} == {})",
    "!=": "({} != {})",
    "ediv": "_ediv({}, {})",
    "emod": "_emod({}, {})",
}
_COMPARE = ("<", "<=", ">", ">=", "==", "!=")


def _ediv(a: int, b: int) -> int:
    """Z3's integer division (Euclidean): ``a = b*q + r`` with ``0 <= r < |b|``."""
    return a // b if b > 0 else -(a // -b)


def _emod(a: int, b: int) -> int:
    """Z3's integer ``mod``: ``0 <= r < |b|``."""
    return a % abs(b)


Operand = Any  # Expr | int | bool


class Expr:
    """A recorded integer (or, for comparisons, boolean) expression over named inputs."""

    __slots__ = ("args", "op", "raises")

    op: str
    args: tuple[Operand, ...]
    raises: bool

    def __init__(self, op: str, args: tuple[Operand, ...]) -> None:
        self.op, self.args = op, args
        own = op in ("ediv", "emod") or (op in ("//", "%") and type(args[1]) is Expr)
        self.raises = own or any(type(a) is Expr and a.raises for a in args)

    @staticmethod
    def var(name: str) -> Expr:
        if not name.isidentifier() or name.startswith("_"):
            raise ValueError(f"not a parameter name: {name!r}")
        return Expr("var", (name,))

    # -- arithmetic (plain ints fold; 0 and 1 are identities) ---------------------------------

    def __add__(self, o: Operand) -> Any:
        return self if _is_const(o, 0) else _node("+", self, o)

    def __radd__(self, o: Operand) -> Any:
        return self if _is_const(o, 0) else _node("+", o, self)

    def __sub__(self, o: Operand) -> Any:
        return self if _is_const(o, 0) else _node("-", self, o)

    def __rsub__(self, o: Operand) -> Any:
        return -self if _is_const(o, 0) else _node("-", o, self)

    def __mul__(self, o: Operand) -> Any:
        if _is_const(o, 1):
            return self
        return 0 if _is_const(o, 0) else _node("*", self, o)

    def __rmul__(self, o: Operand) -> Any:
        return self.__mul__(o)

    def __neg__(self) -> Any:
        if self.op == "neg":
            return self.args[0]
        return Expr("neg", (self,))

    def __pos__(self) -> Any:
        return self

    def __truediv__(self, o: Operand) -> Any:
        return _div(self, o)

    def __rtruediv__(self, o: Operand) -> Any:
        return _div(o, self)

    def __mod__(self, o: Operand) -> Any:
        return _mod(self, o)

    def __rmod__(self, o: Operand) -> Any:
        return _mod(o, self)

    # -- comparisons give boolean expressions ------------------------------------------------

    def __lt__(self, o: Operand) -> Any:
        return _node("<", self, o)

    def __le__(self, o: Operand) -> Any:
        return _node("<=", self, o)

    def __gt__(self, o: Operand) -> Any:
        return _node(">", self, o)

    def __ge__(self, o: Operand) -> Any:
        return _node(">=", self, o)

    def __eq__(self, o: object) -> Any:
        return _node("==", self, o)

    def __ne__(self, o: object) -> Any:
        return _node("!=", self, o)

    __hash__ = object.__hash__

    # -- what a traceable formula never does ------------------------------------------------

    def __bool__(self) -> bool:
        raise NotTraceable("the formula branches on a symbolic value (use ite)")

    def __int__(self) -> int:
        raise NotTraceable("the formula converts a symbolic value with int()")

    def __index__(self) -> int:
        raise NotTraceable("the formula uses a symbolic value as an index")

    def __floordiv__(self, o: Operand) -> Any:
        raise NotTraceable("the formula uses // on a term (numeric.div_floor is the interface)")

    __rfloordiv__ = __floordiv__

    def __repr__(self) -> str:
        return f"Expr({_text(self, {})})"


def _is_const(o: Operand, v: int) -> bool:
    return type(o) is int and o == v


def _check(o: Operand) -> Operand:
    if type(o) is Expr or type(o) is int or type(o) is bool:
        return o
    raise NotTraceable(f"a {type(o).__name__} in a traced formula (only int and Expr)")


def _node(op: str, a: Operand, b: Operand) -> Expr:
    return Expr(op, (_check(a), _check(b)))


def _div(a: Operand, b: Operand) -> Any:
    """Z3 ``a / b`` (Euclidean) as the cheapest exact Python form."""
    if type(b) is int:
        if b == 1:
            return a
        if b > 0:
            return _node("//", a, b)
        if b < 0:
            return -_node("//", a, -b)
    return _node("ediv", a, b)


def _mod(a: Operand, b: Operand) -> Any:
    """Z3 ``a % b`` (``0 <= r < |b|``)."""
    if type(b) is int and b != 0:
        return _node("%", a, abs(b))
    return _node("emod", a, b)


def is_expr(*xs: object) -> bool:
    """True if any argument is an :class:`Expr` (the emitting backend is then used)."""
    return any(type(x) is Expr for x in xs)


# --------------------------------------------------------------------------- Z3-like API
# perpspec.numeric calls these through its backend for Expr arguments.


def If(c: Operand, a: Operand, b: Operand) -> Any:
    if type(c) is bool:
        return a if c else b
    if a is b:
        return a
    if type(c) is Expr and c.op == ">" and _is_const(c.args[1], 0) and type(c.args[0]) is Expr:
        # numeric.div_floor's If(b > 0, x / b, (-x) / (-b)): under its guard each Euclidean
        # division has a positive (or, in the else branch, zero: both raise) divisor: plain //
        a, b = _floor_under(a, c.args[0], False), _floor_under(b, c.args[0], True)
    return Expr("ite", (_check(c), _check(a), _check(b)))


def _floor_under(x: Operand, d: Expr, negated: bool) -> Operand:
    """``x`` with a top-level ``ediv(n, d)`` (``ediv(n, -d)`` if ``negated``) made a floor
    division, for a branch where ``d > 0`` (``d <= 0``) holds."""
    if type(x) is not Expr or x.op != "ediv":
        return x
    n, div = x.args
    if negated:
        if type(div) is Expr and div.op == "neg" and div.args[0] is d:
            return _node("//", n, div)
    elif div is d:
        return _node("//", n, div)
    return x


def And(*cs: Operand) -> Any:
    rest = []
    for c in cs:
        if type(c) is bool:
            if not c:
                return False
            continue
        rest.append(_check(c))
    if not rest:
        return True
    return rest[0] if len(rest) == 1 else Expr("and", tuple(rest))


def Or(*cs: Operand) -> Any:
    rest = []
    for c in cs:
        if type(c) is bool:
            if c:
                return True
            continue
        rest.append(_check(c))
    if not rest:
        return False
    return rest[0] if len(rest) == 1 else Expr("or", tuple(rest))


def Not(c: Operand) -> Any:
    if type(c) is bool:
        return not c
    return Expr("not", (_check(c),))


# --------------------------------------------------------------------------- emission


def _text(x: Operand, names: dict[int, str]) -> str:
    """Python source of ``x``; nodes in ``names`` are referred to by their local."""
    if type(x) is not Expr:
        return repr(x)  # int or bool literal
    name = names.get(id(x))
    if name is not None:
        return name
    op, args = x.op, x.args
    if op == "var":
        return str(args[0])
    if op == "neg":
        return f"(-{_text(args[0], names)})"
    if op == "not":
        return f"(not {_text(args[0], names)})"
    if op == "ite":
        c, a, b = (_text(v, names) for v in args)
        return f"({a} if {c} else {b})"
    if op in ("and", "or"):
        return "(" + f" {op} ".join(_text(v, names) for v in args) + ")"
    return _BINARY[op].format(_text(args[0], names), _text(args[1], names))


def _shared(root: Operand) -> list[Expr]:
    """Nodes referenced more than once that cannot raise, children before parents."""
    uses: dict[int, int] = {}
    order: list[Expr] = []
    stack: list[tuple[Operand, bool]] = [(root, False)]
    while stack:
        x, done = stack.pop()
        if type(x) is not Expr or x.op == "var":
            continue
        if done:
            order.append(x)
            continue
        uses[id(x)] = uses.get(id(x), 0) + 1
        if uses[id(x)] == 1:
            stack.append((x, True))
            stack.extend((a, False) for a in reversed(x.args))
    return [x for x in order if uses[id(x)] > 1 and not x.raises]


def _body(result: Operand, indent: str) -> list[str]:
    names: dict[int, str] = {}
    lines = []
    for node in _shared(result):
        text = _text(node, names)
        names[id(node)] = f"_t{len(names)}"
        lines.append(f"{indent}{names[id(node)]} = {text}")
    lines.append(f"{indent}return {_text(result, names)}")
    return lines


class Generated:
    """A generated function, its source (for the docs and for debugging) and the parameters
    its result depends on (``reads``: a parameter the formula ignores is not in it)."""

    __slots__ = ("fn", "reads", "source")

    def __init__(self, fn: Callable[..., Any], source: str, reads: frozenset[str]) -> None:
        self.fn, self.source, self.reads = fn, source, reads


def _variables(root: Operand) -> set[str]:
    seen: set[int] = set()
    out: set[str] = set()
    stack = [root]
    while stack:
        x = stack.pop()
        if type(x) is not Expr or id(x) in seen:
            continue
        seen.add(id(x))
        if x.op == "var":
            out.add(str(x.args[0]))
        else:
            stack.extend(x.args)
    return out


def _trace(fn: Callable[..., Any], args: Sequence[Any]) -> Operand:
    out = fn(*args)
    if type(out) is bool or (type(out) is not int and type(out) is not Expr):
        raise NotTraceable(f"the formula returned a {type(out).__name__}, not an integer term")
    if type(out) is Expr and out.op in (*_COMPARE, "and", "or", "not"):
        raise NotTraceable("the formula returned a condition, not an integer term")
    return out


def generate(
    name: str, params: Sequence[str], fn: Callable[..., Any], optional: Sequence[str] = ()
) -> Generated:
    """The plain-Python form of ``fn(*params)``, evaluated once over symbolic ``params``.

    Each parameter named in ``optional`` may also be ``None`` at run time; the formula is
    then traced once per combination (``None`` or symbolic) and the generated function tests
    ``is None`` first, as the definition does. Raises :class:`NotTraceable` if the formula
    cannot be traced (see the module docstring).
    """
    if len(optional) > 2:
        raise ValueError("at most two optional parameters")
    lines = [f"def {name}({', '.join(params)}):"]
    reads: set[str] = set()
    cases: list[tuple[str, ...]] = [()]
    for p in optional:
        cases = [(*c, p) for c in cases] + cases  # most specific (all None) first
    for none_params in cases:
        args = [None if p in none_params else Expr.var(p) for p in params]
        result = _trace(fn, args)
        reads |= _variables(result)
        if none_params:
            cond = " and ".join(f"{p} is None" for p in none_params)
            lines.append(f"    if {cond}:")
            lines.extend(_body(result, "        "))
        else:
            lines.extend(_body(result, "    "))
    source = "\n".join(lines) + "\n"
    filename = f"<perpspec.codegen:{name}:{id(source):x}>"
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    namespace: dict[str, Any] = {"_ediv": _ediv, "_emod": _emod}
    exec(compile(source, filename, "exec"), namespace)
    reads |= set(optional)  # tested for None
    return Generated(namespace[name], source, frozenset(reads))
