"""Arithmetic without `eval`: the expression is parsed and only numbers, arithmetic operators
and a few math functions are evaluated.

Python integers are unbounded, so `(9**9999)**9999` would hold the event loop for minutes. Before
every power and product the size of the result is estimated from the operands' bit lengths and
refused past MAX_INT_BITS (about 4,200 digits, just under the longest integer Python will print),
so every step costs microseconds and the tool can run on the event loop."""

import ast
import math
import operator
from collections.abc import Callable
from typing import Any

from sage_sidecar.tools.base import Tool, ToolContext, ToolError

_BINARY: dict[type[ast.operator], Callable[[Any, Any], Any]] = {
    ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul,
    ast.Div: operator.truediv, ast.FloorDiv: operator.floordiv, ast.Mod: operator.mod,
    ast.Pow: operator.pow,
}  # fmt: skip
_UNARY: dict[type[ast.unaryop], Callable[[Any], Any]] = {ast.UAdd: operator.pos, ast.USub: operator.neg}  # fmt: skip
_FUNCTIONS: dict[str, Callable[..., Any]] = {
    name: getattr(math, name)
    for name in ("sqrt", "sin", "cos", "tan", "log", "log10", "log2", "exp", "floor", "ceil",
                 "factorial", "radians", "degrees")
} | {"abs": abs, "round": round}  # fmt: skip
_CONSTANTS = {"pi": math.pi, "e": math.e, "tau": math.tau}
MAX_EXPRESSION = 500
MAX_EXPONENT = 10_000
MAX_INT_BITS = 14_000  # ~4,200 decimal digits: str() refuses more than 4,300 (sys.int_info)


def evaluate(expression: str) -> float | int:
    if len(expression) > MAX_EXPRESSION:
        raise ToolError("expression too long")
    try:
        tree = ast.parse(expression, mode="eval")
    except SyntaxError as error:
        raise ToolError(f"not an arithmetic expression: {error.msg}") from error
    value: float | int = _eval(tree.body)
    return value


def _eval(node: ast.AST) -> Any:
    if isinstance(node, ast.Constant) and type(node.value) in (int, float):
        return node.value
    if isinstance(node, ast.Name) and node.id in _CONSTANTS:
        return _CONSTANTS[node.id]
    if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
        left, right = _eval(node.left), _eval(node.right)
        if isinstance(node.op, ast.Pow) and abs(right) > MAX_EXPONENT:
            raise ToolError("exponent too large")
        _check_size(node.op, left, right)
        try:
            return _BINARY[type(node.op)](left, right)
        except (ZeroDivisionError, OverflowError, ValueError) as error:
            raise ToolError(str(error)) from error
    if isinstance(node, ast.UnaryOp) and type(node.op) in _UNARY:
        return _UNARY[type(node.op)](_eval(node.operand))
    if (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id in _FUNCTIONS
        and not node.keywords
    ):
        args = [_eval(arg) for arg in node.args]
        if node.func.id == "factorial" and args and args[0] > 1000:
            raise ToolError("factorial argument too large")
        try:
            return _FUNCTIONS[node.func.id](*args)
        except (TypeError, ValueError, OverflowError) as error:
            raise ToolError(str(error)) from error
    raise ToolError(f"unsupported element: {ast.dump(node)[:80]}")


def _bits(value: Any) -> int:
    return value.bit_length() if isinstance(value, int) else 0


def _check_size(op: ast.operator, left: Any, right: Any) -> None:
    """Refuse an integer power or product whose result would exceed MAX_INT_BITS, before computing
    it (floats overflow on their own, quickly)."""
    if not (isinstance(left, int) and isinstance(right, int)):
        return
    if isinstance(op, ast.Pow) and right > 0 and abs(left) > 1:
        estimate = (_bits(left) - 1) * right + 1  # |left| >= 2**(bits - 1)
    elif isinstance(op, ast.Mult) and left and right:
        estimate = _bits(left) + _bits(right) - 1
    else:
        return
    if estimate > MAX_INT_BITS:
        raise ToolError(
            f"result too large: about {int(estimate * 0.30103):,} digits "
            f"(the limit is {int(MAX_INT_BITS * 0.30103):,})"
        )


async def _run(args: dict[str, Any], _ctx: ToolContext) -> str:
    expression = args.get("expression")
    if not isinstance(expression, str):
        raise ToolError("'expression' (string) is required")
    value = evaluate(expression)
    try:
        return str(value)
    except ValueError as error:  # an integer too long to print (factorial, additions)
        raise ToolError(f"result too large to print ({error})") from error


CALCULATOR = Tool(
    name="calculator",
    description="Evaluate an arithmetic expression, e.g. '2 * (3 + 4) ** 2' or 'sqrt(2)'.",
    parameters={
        "type": "object",
        "properties": {"expression": {"type": "string", "description": "The expression"}},
        "required": ["expression"],
    },
    run=_run,
)
