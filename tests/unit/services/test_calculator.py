"""The calculator evaluates arithmetic and nothing else."""

from __future__ import annotations

import pytest

from toolwire.services.tools.arithmetic import CalculationError, evaluate


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("2+3*4", 14),
        ("(2+3)*4", 20),
        ("-3**2", -9),
        ("(-3)**2", 9),
        ("--4", 4),
        ("-(2+3)", -5),
        ("7/2", 3.5),
        ("7//2", 3),
        ("-7//2", -4),
        ("7%3", 1),
        ("2**10", 1024),
        ("1.5*4", 6.0),
        ("2**-1", 0.5),
        (" 6 * 7 ", 42),
        ("10 - 2 - 3", 5),
        ("2**3**2", 512),
        ("-" * 901 + "1", -1),
    ],
)
def test_evaluates_arithmetic_with_python_precedence(expression: str, expected: float) -> None:
    assert evaluate(expression) == expected


@pytest.mark.parametrize(
    ("expression", "problem"),
    [
        ("1/0", "division by zero"),
        ("1//0", "division by zero"),
        ("5%0", "division by zero"),
        ("0**-1", "division by zero"),
        ("2**99999999", "exponent"),
        ("9**9**9", "exponent"),
        ("(10**1000)**5", "too large"),
        ("10.0**400", "too large"),
        ("(-8)**0.5", "not a real number"),
        ("__import__('os')", "Call is not allowed"),
        ("__import__", "Name is not allowed"),
        ("x + 1", "Name is not allowed"),
        ("(1).real", "Attribute is not allowed"),
        ("(lambda: 1)()", "not allowed"),
        ("'a' * 3", "only numbers"),
        ("True + 1", "only numbers"),
        ("[1, 2]", "List is not allowed"),
        ("1 if 1 else 2", "not allowed"),
        ("1 < 2", "not allowed"),
        ("1 << 2", "not allowed"),
        ("2+", "not an arithmetic expression"),
        ("", "not an arithmetic expression"),
        ("1" * 1001, "longer than"),
        ("(" * 300 + "1" + ")" * 300, "not an arithmetic expression|nested"),
        ("1e308*10", "not finite"),
    ],
)
def test_refuses_anything_but_safe_arithmetic(expression: str, problem: str) -> None:
    with pytest.raises(CalculationError, match=problem):
        evaluate(expression)
