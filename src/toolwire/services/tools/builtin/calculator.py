"""The `calculator` tool."""

from __future__ import annotations

from pydantic import BaseModel, Field

from toolwire.services.tools.arithmetic import MAX_EXPRESSION_CHARS, Number, evaluate
from toolwire.services.tools.spec import tool


class CalculatorArgs(BaseModel, extra="forbid"):
    """Arguments of `calculator`."""

    expression: str = Field(
        min_length=1,
        max_length=MAX_EXPRESSION_CHARS,
        description="Arithmetic with numbers, parentheses and + - * / // % **",
    )


# inline: the evaluator's work is bounded (1000 characters, 4096-bit integers)
@tool(name="calculator", description="Evaluate an arithmetic expression safely.", inline=True)
def calculator(args: CalculatorArgs) -> Number:
    """Return the value of the expression."""
    return evaluate(args.expression)
