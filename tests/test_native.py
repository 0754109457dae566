"""shared.agents.native: schemas from the tools' docstrings, whether a template renders tools, reading and validating
JSON tool calls (every bad call an observation, never an exception), and the loop in this format."""

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shared.agents.loop import act
from shared.agents.native import (
    call_text,
    example_turns,
    mentions,
    read_tool_call,
    renders_tools,
    run_tool_calls,
    tool_schemas,
    tools_system_message,
    validate_call,
)
from shared.agents.toolkit import Retriever, calculator, word_counter

TOOLS = {"calculator": calculator, "count": word_counter(["the owl and the owl"])}


def test_schemas_come_from_signatures_and_docstrings():
    import torch

    search = Retriever(["an owl."], lambda texts: torch.ones(len(texts), 2))
    schemas = tool_schemas({**TOOLS, "search": search})
    assert [s["function"]["name"] for s in schemas] == ["calculator", "count", "search"]
    calc = schemas[0]["function"]
    assert calc["parameters"]["required"] == ["expression"] and calc["parameters"]["properties"]["expression"] == {
        "type": "string",
        "description": "numbers with + - * / // % ** and parentheses, e.g. 347 * 29",
    }
    assert schemas[2]["function"]["parameters"]["required"] == ["query"]
    with pytest.raises(ValueError, match="non-empty dict"):
        tool_schemas({})


def test_smollm2_template_ignores_tools_and_a_tool_aware_one_renders_them():
    from shared.models import load_tokenizer

    tokenizer = load_tokenizer("chat_lm")
    schemas = tool_schemas(TOOLS)
    assert not renders_tools(tokenizer, schemas)
    tokenizer.chat_template = (
        "{% if tools %}<tools>{% for t in tools %}{{ t | tojson }}{% endfor %}</tools>{% endif %}"
        "{% for m in messages %}{{ m['role'] }}: {{ m['content'] }}\n{% endfor %}"
    )
    assert renders_tools(tokenizer, schemas)
    message = tools_system_message(schemas, "Use the tools.")
    assert message.startswith("Use the tools.") and '"name": "count"' in message and '"return"' not in message


@pytest.mark.parametrize(
    ("reply", "call", "problem"),
    [
        (
            call_text("calculator", {"expression": "1 + 2"}),
            {"name": "calculator", "arguments": {"expression": "1 + 2"}},
            None,
        ),
        (
            '<tool_call>[{"name": "count", "arguments": {"word": "owl"}}]</tool_call>',
            {"name": "count", "arguments": {"word": "owl"}},
            None,
        ),
        (
            'Sure. {"name": "count", "parameters": {"word": "owl"}}',
            {"name": "count", "arguments": {"word": "owl"}},
            None,
        ),
        ("The answer is 3.", None, None),
        ('<tool_call>{"name": "count", "arguments": {"word": owl}}</tool_call>', None, "not valid JSON"),
        ("<tool_call>[1, 2]</tool_call>", None, "expected one call"),
        ('<tool_call>{"name": "count", "arguments": {"word": "ow', None, "not valid JSON"),
        ("<tool_call>" + "[" * 5000 + "</tool_call>", None, "not valid JSON"),
        (None, None, "as text"),
    ],
)
def test_read_tool_call(reply, call, problem):
    got, why = read_tool_call(reply)
    assert got == call
    assert (why is None) if problem is None else (problem in why)


@pytest.mark.parametrize(
    ("call", "problem"),
    [
        ({"name": "calculator", "arguments": {"expression": "1 + 2"}}, None),
        ({"name": "python", "arguments": {}}, "unknown tool 'python'"),
        ({"name": "calculator", "arguments": "1 + 2"}, "JSON object"),
        ({"name": "calculator", "arguments": {}}, "needs the argument(s) expression"),
        ({"name": "calculator", "arguments": {"expression": "1", "x": 2}}, "takes no argument(s) x"),
        ({"name": "count", "arguments": {"word": 7}}, "must be of type string"),
        ({"name": "count", "arguments": {"word": True}}, "must be of type string"),
    ],
)
def test_validate_call(call, problem):
    why = validate_call(call, tool_schemas(TOOLS))
    assert (why is None) if problem is None else (problem in why)


def test_a_validated_call_runs_with_keyword_arguments():
    assert act(TOOLS, "calculator", {"expression": "6 * 7"}) == "42"
    assert act(TOOLS, "count", {"word": "owl"}) == "2"
    assert act(TOOLS, "count", {"term": "owl"}).startswith("Error: TypeError:")


def test_loop_runs_calls_reports_bad_ones_and_ends_with_the_answer():
    schemas = tool_schemas(TOOLS)
    script = {
        1: [call_text("calculator", {"expression": "6 * 7"}), '<tool_call>{"name": "count"}</tool_call>'],
        2: ["Answer: 42", call_text("count", {"word": "owl"})],
        3: ["never asked", "It occurs 2 times."],
    }
    seen = []

    def generate(chats):
        seen.append(chats)
        return script[len(seen)][-len(chats) :] if len(chats) == 1 else script[len(seen)]

    first, second = run_tool_calls(generate, ["6 * 7?", "owls?"], TOOLS, schemas, max_steps=3)
    assert first.answer == "Answer: 42" and first.ended == "answer" and first.steps == 2
    assert first.calls == [("calculator", '{"expression": "6 * 7"}', "42")]
    assert second.calls[0][2] == "Error: count needs the argument(s) word" and second.calls[1][2] == "2"
    assert second.answer == "It occurs 2 times." and mentions(second.answer, "2")
    assert seen[1][0][-1] == {"role": "tool", "content": "42"}
    with pytest.raises(ValueError, match="questions"):
        run_tool_calls(generate, "one question", TOOLS, schemas)


replies = st.one_of(
    st.text(max_size=200),
    st.builds(lambda s: f"<tool_call>{s}</tool_call>", st.text(max_size=120)),
    st.builds(
        lambda name, args: call_text(name, args),
        st.sampled_from(["calculator", "count", "crash", ""]),
        st.dictionaries(
            st.text(max_size=10), st.one_of(st.text(max_size=20), st.integers(), st.booleans()), max_size=3
        ),
    ),
    st.none(),
    st.integers(),
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(replies, min_size=6, max_size=6))
def test_run_tool_calls_never_raises_whatever_the_model_writes(script):
    feed = iter(script)

    def crash(word: str) -> str:
        """Crash.

        Args:
            word: a word
        """
        raise MemoryError("a tool bug")

    tools = {**TOOLS, "crash": crash}
    episodes = run_tool_calls(lambda chats: [next(feed) for _ in chats], ["q1?", "q2?"], tools, tool_schemas(tools))
    assert all(e.ended in ("answer", "step limit") and e.steps <= 3 for e in episodes)


def test_example_turns_and_mentions():
    text = example_turns("6 * 7?", "calculator", {"expression": "6 * 7"}, "42", "Answer: 42", native=False)
    assert [m["role"] for m in text] == ["user", "assistant", "tool", "assistant"]
    assert json.loads(text[1]["content"][len("<tool_call>") : -len("</tool_call>")])["name"] == "calculator"
    structured = example_turns("6 * 7?", "calculator", {"expression": "6 * 7"}, "42", "42", native=True)
    assert structured[1]["tool_calls"][0]["function"] == {"name": "calculator", "arguments": {"expression": "6 * 7"}}
    assert mentions("The answer is 14,664.", "14664") and mentions("Answer: potter", "potter")
    assert not mentions("Answer: 146640", "14664") and not mentions(None, "1")
