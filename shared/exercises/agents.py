"""Checked exercises of lesson 23 (agents): parsing a ReAct reply, and validating a JSON tool call."""

from __future__ import annotations

import re

from shared.agents.loop import parse
from shared.agents.native import validate_call
from shared.exercises.core import Exercise, Mistake, namespaces


def parse_reply(reply):
    """What a ReAct reply does first: ``("answer", text)``, ``("action", tool, input)`` or ``("none",)``."""
    return parse(reply)[0]


PARSE_SOLUTION = """
import re

ACTION = re.compile(r"Action:\\s*([A-Za-z_]\\w*)\\s*\\[([^\\]\\n]*)\\]")  # the input ends at the first ]
ANSWER = re.compile(r"Answer:[ \\t]*([^\\n]*)")


def my_parse(reply):
    action, answer = ACTION.search(reply), ANSWER.search(reply)  # search: the first match of each
    if answer and answer.group(1).strip() and (action is None or answer.start() < action.start()):
        return ("answer", answer.group(1).strip())
    if action:
        return ("action", action.group(1), action.group(2).strip())
    return ("none",)
"""

REPLIES = [
    "Thought: I need exact arithmetic.\nAction: calculator[347 * 29]",
    "Answer: 10063",
    "Thought: two tools.\nAction: count[owl]\nAction: calculator[1 + 2]",
    "Action: calculator[3 * 4]\nObservation: 12\nAnswer: 12",
    "Answer: 7\nAction: calculator[1 + 1]",
    "Action: search[on monday] or [on tuesday]",
    "Thought: I am not sure what to do.",
    "Action: calculator[1 + 2",
    "Answer:    12  ",
]

_ACTION = re.compile(r"Action:\s*([A-Za-z_]\w*)\s*\[([^\]\n]*)\]")
_GREEDY = re.compile(r"Action:\s*([A-Za-z_]\w*)\s*\[(.*)\]")
_ANSWER = re.compile(r"Answer:[ \t]*([^\n]*)")


def _decide(answer, action):
    if answer and answer.group(1).strip() and (action is None or answer.start() < action.start()):
        return ("answer", answer.group(1).strip())
    if action:
        return ("action", action.group(1), action.group(2).strip())
    return ("none",)


def _last_action(reply):
    actions = list(_ACTION.finditer(reply))
    return _decide(_ANSWER.search(reply), actions[-1] if actions else None)


def _answer_first(reply):
    answer = _ANSWER.search(reply)
    if answer and answer.group(1).strip():
        return ("answer", answer.group(1).strip())
    return _decide(None, _ACTION.search(reply))


def _greedy_brackets(reply):
    return _decide(_ANSWER.search(reply), _GREEDY.search(reply))


CALCULATOR = {"type": "string", "description": "an arithmetic expression"}
SCHEMAS = [
    {
        "type": "function",
        "function": {
            "name": "calculator",
            "description": "Compute an arithmetic expression exactly.",
            "parameters": {"type": "object", "properties": {"expression": CALCULATOR}, "required": ["expression"]},
        },
    },
    {
        "type": "function",
        "function": {
            "name": "round_to",
            "description": "Round a number.",
            "parameters": {
                "type": "object",
                "properties": {"value": {"type": "number"}, "digits": {"type": "integer"}},
                "required": ["value", "digits"],
            },
        },
    },
    {
        "type": "function",
        "function": {
            "name": "search",
            "description": "Find the sentences closest to a query.",
            "parameters": {
                "type": "object",
                "properties": {"query": {"type": "string"}, "k": {"type": "integer"}},
                "required": ["query"],
            },
        },
    },
]
CALLS = [
    {"name": "calculator", "arguments": {"expression": "347 * 29"}},
    {"name": "calculate", "arguments": {"expression": "347 * 29"}},
    {"name": "calculator", "arguments": {}},
    {"name": "calculator", "arguments": {"expression": "1 + 1", "verbose": True}},
    {"name": "calculator", "arguments": {"expression": 12}},
    {"name": "round_to", "arguments": {"value": 2.5, "digits": 1}},
    {"name": "round_to", "arguments": {"value": 3, "digits": 0}},
    {"name": "round_to", "arguments": {"value": 2.0, "digits": True}},
    {"name": "calculator", "arguments": "1 + 1"},
    {"name": "search", "arguments": {"query": "owl"}},
]


def is_valid_call(call, schemas):
    """True if ``call`` names one of the ``schemas``' tools and gives exactly its arguments: every required one, no
    other, each of its declared JSON type."""
    return validate_call(call, schemas) is None


VALID_SOLUTION = """
TYPES = {"string": str, "integer": int, "number": (int, float), "boolean": bool}


def my_is_valid_call(call, schemas):
    tools = {s["function"]["name"]: s["function"]["parameters"] for s in schemas}
    arguments = call.get("arguments")
    if call.get("name") not in tools or not isinstance(arguments, dict):
        return False
    parameters = tools[call["name"]]
    if any(name not in arguments for name in parameters.get("required", [])):  # a missing argument
        return False
    for name, value in arguments.items():
        if name not in parameters["properties"]:  # an argument the tool does not take
            return False
        kind = parameters["properties"][name]["type"]
        if not isinstance(value, TYPES[kind]) or (isinstance(value, bool) and kind != "boolean"):
            return False  # a wrong type (True is an int to Python, not to JSON)
    return True
"""

_TYPES = {"string": str, "integer": int, "number": (int, float), "boolean": bool}


def _validator(required=True, extra=True, types=True, bool_is_int=False):
    def valid(call, schemas):
        tools = {s["function"]["name"]: s["function"]["parameters"] for s in schemas}
        arguments = call.get("arguments")
        if call.get("name") not in tools or not isinstance(arguments, dict):
            return False
        parameters = tools[call["name"]]
        if required and any(name not in arguments for name in parameters.get("required", [])):
            return False
        for name, value in arguments.items():
            if name not in parameters["properties"]:
                if extra:
                    return False
                continue
            kind = parameters["properties"][name]["type"]
            wrong_bool = isinstance(value, bool) and kind != "boolean" and not bool_is_int
            if types and (not isinstance(value, _TYPES[kind]) or wrong_bool):
                return False
        return True

    return valid


EXERCISES = [
    Exercise(
        key="q1",
        title="a ReAct reply parser",
        reference=parse_reply,
        cases=lambda: [(reply,) for reply in REPLIES],
        verified=f"your parser reads all {len(REPLIES)} replies as the loop does: the first action, an answer only "
        "before any action, inputs that end at the first ']', incomplete actions ignored",
        hints=[
            "re.search finds the first match of a pattern: one for 'Action: tool[input]', one for 'Answer: text'. "
            "When both are there, whichever starts first (match.start()) wins.",
            "The input is everything up to the first ']': [^\\]\\n]* in the pattern, not .*, which runs on to the "
            "last ']' of the line. An 'Answer:' with nothing after it is no answer.",
        ],
        mistakes=[
            Mistake(
                "last_action",
                _last_action,
                "with two actions in one reply your parser takes the last one. The "
                "model wrote the first one first and the loop runs one tool per step: take the first (re.search).",
            ),
            Mistake(
                "answer_first",
                _answer_first,
                "an 'Answer:' that comes after an action wins. A model that calls "
                "a tool and then writes 'Answer:' has made the answer up before seeing the observation: whichever "
                "comes first wins.",
            ),
            Mistake(
                "greedy_brackets",
                _greedy_brackets,
                "the input runs to the last ']' of the line (a greedy .*), so "
                "'search[on monday] or [on tuesday]' gives 'on monday] or [on tuesday'. End the input at the first "
                "']': [^\\]\\n]*.",
            ),
        ],
        solution=PARSE_SOLUTION,
    ),
    Exercise(
        key="q2",
        title="a JSON tool-call validator",
        reference=is_valid_call,
        cases=lambda: [(call, SCHEMAS) for call in CALLS],
        verified=f"your validator accepts and refuses the same {len(CALLS)} calls as the loop: unknown tools, "
        "missing and extra arguments, wrong types (True for an integer included) are refused",
        hints=[
            "Find the tool's parameters by its name in the schemas; a name that is not there, or arguments that "
            "are not a dict, make the call invalid.",
            "Then three checks: every name in parameters['required'] is in the arguments; every argument is in "
            "parameters['properties']; every value has its property's JSON type (string: str, integer: int, "
            "number: int or float, boolean: bool), and a bool is not an integer.",
        ],
        mistakes=[
            Mistake(
                "accepts_extra",
                _validator(extra=False),
                "a call with an argument the tool does not take is accepted. "
                "The tool would fail on it (an unexpected keyword) or silently ignore it: refuse arguments that are "
                "not in the schema's properties.",
            ),
            Mistake(
                "accepts_missing",
                _validator(required=False),
                "a call that leaves out a required argument is accepted. Check "
                "that every name in parameters['required'] is among the arguments.",
            ),
            Mistake(
                "no_type_check",
                _validator(types=False),
                "a value of the wrong type is accepted (12 where the schema asks "
                "for a string). Check each value against its property's JSON type.",
            ),
            Mistake(
                "bool_as_integer",
                _validator(bool_is_int=True),
                "True is accepted as an integer: Python's bool is a subclass "
                "of int, JSON's true is not a number. Refuse a bool unless the type is boolean.",
            ),
        ],
        solution=VALID_SOLUTION,
    ),
]

check, hint, solution = namespaces(EXERCISES)
