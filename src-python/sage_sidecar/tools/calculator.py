"""Arithmetic without `eval`: the expression is parsed and only numbers, arithmetic operators
and a few math functions are evaluated."""

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


async def _run(args: dict[str, Any], _ctx: ToolContext) -> str:
    expression = args.get("expression")
    if not isinstance(expression, str):
        raise ToolError("'expression' (string) is required")
    return str(evaluate(expression))


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
