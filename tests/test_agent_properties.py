"""Property tests (Hypothesis): whatever a model writes, the calculator returns a finite number or refuses with a
ToolError, each call quickly, and ``run_agent`` never raises, whatever the replies and whatever the tools raise."""

import math
import string

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shared.agents.loop import act, run_agent
from shared.agents.toolkit import MAX_INPUT, ToolError, calculator, word_counter

CASES = settings(max_examples=2000, deadline=1000, suppress_health_check=[HealthCheck.too_slow])

numbers = st.one_of(
    st.integers(min_value=-(10**120), max_value=10**120),
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from([0, 1, -1, 0.5, 1e-300, 1e300, 5e-324, 1.7976931348623157e308, 10**100, 2**53 + 1]),
).map(repr)
OPERATORS = ["+", "-", "*", "/", "//", "%", "**"]


def expressions(max_leaves: int = 12):
    """Random arithmetic trees over extreme numbers, rendered as text (parentheses everywhere)."""
    return st.recursive(
        numbers,
        lambda inner: st.one_of(
            st.tuples(inner, st.sampled_from(OPERATORS), inner).map(lambda t: f"({t[0]} {t[1]} {t[2]})"),
            st.tuples(st.sampled_from(["-", "+"]), inner).map(lambda t: f"{t[0]}({t[1]})"),
        ),
        max_leaves=max_leaves,
    )


def outcome(text):
    """What the calculator did with ``text``: ("value", float) or ("refused", message). Anything else raises."""
    try:
        result = calculator(text)
    except ToolError as err:
        assert str(err), "a refusal says why"
        return ("refused", str(err))
    value = float(result) if "." in result or "e" in result else int(result)
    assert math.isfinite(value) and abs(value) <= 1e100, result
    return ("value", value)


@CASES
@given(expressions())
def test_random_expression_trees_give_a_finite_number_or_a_tool_error(text):
    outcome(text)


@CASES
@given(st.text(alphabet=string.printable, max_size=MAX_INPUT + 20))
def test_random_strings_give_a_finite_number_or_a_tool_error(text):
    outcome(text)


@CASES
@given(st.text(alphabet="0123456789.e+-*/%() ", max_size=MAX_INPUT))
def test_random_arithmetic_looking_strings_give_a_finite_number_or_a_tool_error(text):
    outcome(text)


@pytest.mark.parametrize(
    "text",
    [
        "1e-300 ** -1000",
        "0.5 ** -100000",
        "(-8.0) ** (1/3)",
        "1e308 * 10",
        "1e308 // 1e-308",
        "1e300 % 1e-300",
        "10 ** 100 * 10.0",
        "(1e-320) ** -2",
        "2.0 ** 1024",
        "-(10 ** 100) ** 2",
        "5e-324 ** -1",
    ],
)
def test_the_classes_that_once_escaped_are_refused(text):
    kind, _ = outcome(text)
    assert kind == "refused", text


def test_a_tool_error_of_any_type_becomes_an_observation():
    def broken(_):
        raise RuntimeError("index not loaded")

    class Weird:
        def __str__(self):
            raise ValueError("cannot print")

    assert act({"search": broken}, "search", "x") == "Error: RuntimeError: index not loaded"
    assert act({"odd": lambda _: Weird()}, "odd", "x") == "Error: ValueError: cannot print"
    assert act({"calc": calculator}, "calc", "1 / 0") == "Error: division by zero"


replies = st.one_of(
    st.text(max_size=300),
    st.builds(
        lambda tool, arg: f"Thought: t\nAction: {tool}[{arg}]",
        st.sampled_from(["calculator", "count", "crash", "nope", ""]),
        st.text(alphabet=string.printable.replace("]", "").replace("\n", ""), max_size=80),
    ),
    st.builds(lambda arg: f"Answer: {arg}", st.text(max_size=50)),
    st.none(),
    st.integers(),
    st.binary(max_size=20),
)


@CASES
@given(st.lists(replies, min_size=12, max_size=12))
def test_run_agent_never_raises_whatever_the_model_writes(script):
    """Two questions, up to 4 steps each: the fake model replies from ``script``, tools include one that crashes."""
    feed = iter(script)

    def generate(items):
        return [next(feed) for _ in items]

    def crash(_):
        raise MemoryError("a tool bug")

    tools = {"calculator": calculator, "count": word_counter(["the owl and the owl"]), "crash": crash}
    episodes = run_agent(generate, ["q1?", "q2?"], tools, max_steps=4)
    assert all(e.ended in ("answer", "step limit") and e.steps <= 4 for e in episodes)
