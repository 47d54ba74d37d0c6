"""The calculator never holds the event loop: integer results are bounded before they are
computed, so hostile expressions are refused in microseconds with a clear tool error."""

import asyncio
import time
from pathlib import Path

import pytest

from sage_sidecar.tools.base import ToolContext, ToolError
from sage_sidecar.tools.calculator import CALCULATOR, evaluate


@pytest.mark.parametrize(
    "expression",
    ["(9**9999)**9999", "9**9999", "(2**7000)*(2**7000)", "factorial(1000)*factorial(1000)",
     "((2**100)**100)**100", "(10**4000)*(10**4000)*(10**4000)"],
)  # fmt: skip
def test_huge_integer_results_are_refused_quickly(expression):
    started = time.perf_counter()
    with pytest.raises(ToolError, match="too large"):
        evaluate(expression)
    assert time.perf_counter() - started < 0.05


@pytest.mark.parametrize(
    ("expression", "digits"), [("3**8000", 3817), ("factorial(1000)", 2568), ("7**4900", 4141)]
)
def test_large_but_printable_results_still_work(expression, digits):
    assert len(str(evaluate(expression))) == digits


def test_the_tool_answers_a_hostile_expression_with_an_error_in_time(tmp_path: Path):
    async def run() -> None:
        context = ToolContext(agent_id="a", workspace=tmp_path)
        with pytest.raises(ToolError, match="result too large"):
            await asyncio.wait_for(CALCULATOR.run({"expression": "(9**9999)**9999"}, context), 1)

    started = time.perf_counter()
    asyncio.run(run())
    assert time.perf_counter() - started < 1
