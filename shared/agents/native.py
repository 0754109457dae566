"""Native tool calling: tools declared to a chat model as JSON schemas, the model's calls read as JSON and validated.

Chat models trained for tools expect them declared as JSON schemas, ``tokenizer.apply_chat_template(messages,
tools=[...])``, and answer a tool call with a JSON object ``{"name": ..., "arguments": {...}}``, wrapped in
``<tool_call>...</tool_call>`` by many templates. Here:

* ``tool_schemas(tools)``: the schemas, from each tool's signature and docstring (``transformers.utils.
  get_json_schema``), named by the key the agent knows the tool by;
* ``renders_tools(tokenizer, schemas)``: whether the model's chat template writes ``tools=`` into the prompt at all
  (SmolLM2's does not); if not, ``tools_system_message(schemas)`` writes them into the system message, in the JSON
  style of tool-aware templates;
* ``read_tool_call(reply)``: the first call in a reply, parsed with ``json`` (never evaluated), or why it is not one;
* ``validate_call(call, schemas)``: None, or what is wrong with the call (unknown tool, missing or extra arguments,
  a wrong type); a bad call becomes an observation the model can read, never an exception;
* ``ToolCallAgent`` and ``run_tool_calls``: the loop in this format. A reply without a tool call is the answer; a
  tool's result goes back as a ``tool`` message.
"""

from __future__ import annotations

import inspect
import json
import re
from collections.abc import Callable

from shared.agents.loop import Episode, _Generator, act, end_episodes, replies_for, start_episodes

CALL = re.compile(r"<tool_call>(.*?)(?:</tool_call>|$)", re.S)
JSON_TYPES = {"string": str, "integer": int, "number": (int, float), "boolean": bool, "object": dict, "array": list}


def tool_schemas(tools: dict) -> list[dict]:
    """``{"name": callable}`` -> the JSON schemas of the tools (each needs type hints and a Google-style docstring
    with an ``Args:`` section), named by their keys."""
    from transformers.utils import get_json_schema

    if not isinstance(tools, dict) or not tools:
        raise ValueError("expected tools as a non-empty dict of name -> callable")
    schemas = []
    for name, tool in tools.items():
        schema = get_json_schema(tool if inspect.isfunction(tool) or inspect.ismethod(tool) else tool.__call__)
        schema["function"]["name"] = name
        schemas.append(schema)
    return schemas


def renders_tools(tokenizer, schemas) -> bool:
    """Whether ``apply_chat_template(..., tools=schemas)`` puts the tools into the prompt (False: the template ignores
    them, and the tools must be described in the system message)."""
    messages = [{"role": "user", "content": "hi"}]
    plain = tokenizer.apply_chat_template(messages, tokenize=False)
    try:
        with_tools = tokenizer.apply_chat_template(messages, tools=schemas, tokenize=False)
    except Exception:  # a template that fails on tools= does not support them  # noqa: BLE001
        return False
    return with_tools != plain and schemas[0]["function"]["name"] in with_tools


def tools_system_message(schemas, instructions: str = "") -> str:
    """A system message that declares the tools as JSON schemas in ``<tools>`` tags and shows the call format."""
    listed = "\n".join(json.dumps({k: v for k, v in s["function"].items() if k != "return"}) for s in schemas)
    return (
        f"{instructions.strip()}\nYou may call one of these tools, given as JSON schemas:\n<tools>\n{listed}\n</tools>"
        '\nTo call a tool, reply with JSON only: <tool_call>{"name": <tool name>, "arguments": {<argument>: '
        "<value>}}</tool_call>\nYou then get the result. When you know the answer, reply with it in words."
    ).strip()


def call_text(name: str, arguments: dict) -> str:
    """How a call is written in this format (the worked examples use it)."""
    return f"<tool_call>{json.dumps({'name': name, 'arguments': arguments})}</tool_call>"


def read_tool_call(reply) -> tuple[dict | None, str | None]:
    """``(call, None)`` for the first tool call in ``reply``; ``(None, why)`` for a call that cannot be read;
    ``(None, None)`` when the reply makes no call (it is an answer). Accepts ``<tool_call>{...}</tool_call>``, a list
    holding one call, or a bare JSON object with a ``name``. Only ``json.loads`` ever reads the text."""
    if not isinstance(reply, str):
        return None, f"Error: expected the reply as text; got {type(reply).__name__}"
    tagged = CALL.search(reply)
    text = tagged.group(1) if tagged else reply[reply.find("{") :] if re.search(r'\{\s*"name"', reply) else None
    if text is None:
        return None, None
    start = min((i for i in (text.find("{"), text.find("[")) if i >= 0), default=-1)
    try:
        value, _ = json.JSONDecoder().raw_decode(text[start:]) if start >= 0 else (None, 0)
    except (json.JSONDecodeError, RecursionError) as err:
        return None, f"Error: the tool call is not valid JSON ({err.msg if hasattr(err, 'msg') else 'too deep'})"
    if isinstance(value, list) and len(value) == 1:
        value = value[0]
    if not isinstance(value, dict) or not isinstance(value.get("name"), str):
        return None, 'Error: expected one call as {"name": <tool name>, "arguments": {...}}'
    if "arguments" not in value and "parameters" in value:  # Llama 3's templates write "parameters"
        value["arguments"] = value.pop("parameters")
    return value, None


def validate_call(call: dict, schemas) -> str | None:
    """None if ``call`` names a declared tool with exactly its arguments, each of its declared type; otherwise an
    ``Error: ...`` observation that says what is wrong."""
    known = {s["function"]["name"]: s["function"]["parameters"] for s in schemas}
    name, arguments = call.get("name"), call.get("arguments", {})
    if name not in known:
        return f"Error: unknown tool {name!r}; expected one of: {', '.join(known)}"
    if not isinstance(arguments, dict):
        return f"Error: arguments must be a JSON object; got {type(arguments).__name__}"
    properties, required = known[name].get("properties", {}), known[name].get("required", [])
    if missing := [a for a in required if a not in arguments]:
        return f"Error: {name} needs the argument(s) {', '.join(missing)}"
    if extra := [a for a in arguments if a not in properties]:
        return f"Error: {name} takes no argument(s) {', '.join(extra)}; expected only: {', '.join(properties)}"
    for key, value in arguments.items():
        kind = properties[key].get("type")
        wanted = JSON_TYPES.get(kind)
        if wanted and (not isinstance(value, wanted) or (isinstance(value, bool) and kind != "boolean")):
            return f"Error: argument {key} of {name} must be of type {kind}; got {type(value).__name__}"
    return None


def mentions(text, answer: str) -> bool:
    """Whether ``answer`` (a number or a word) appears as a whole word in ``text`` (thousands separators dropped)."""
    if not isinstance(text, str):
        return False
    return answer.lower() in re.findall(r"-?\d+|[a-z']+", re.sub(r"(?<=\d),(?=\d{3})", "", text.lower()))


def example_turns(question: str, name: str, arguments: dict, result: str, answer: str, native: bool) -> list[dict]:
    """A worked example as chat turns: the question, the assistant's call, the tool's result, the answer. With a
    template that renders tools (``native``) the call is a structured ``tool_calls`` message, written the template's
    way; otherwise it is text in this module's format (``call_text``)."""
    call = (
        {"role": "assistant", "tool_calls": [{"type": "function", "function": {"name": name, "arguments": arguments}}]}
        if native
        else {"role": "assistant", "content": call_text(name, arguments)}
    )
    return [
        {"role": "user", "content": question},
        call,
        {"role": "tool", "content": result},
        {"role": "assistant", "content": answer},
    ]


class ToolCallAgent(_Generator):
    """A chat model in the native format: ``__call__(list of message lists) -> replies``. The tools go through the
    template when it renders them (``renders_tools``), else into the system message; ``examples`` are earlier
    turns (messages) that show the format."""

    def __init__(self, model, tokenizer, schemas, instructions: str = "", examples=(), max_new_tokens: int = 40):
        super().__init__(model, tokenizer, max_new_tokens, stop="</tool_call>")
        self.schemas, self.native = schemas, renders_tools(tokenizer, schemas)
        system = instructions if self.native else tools_system_message(schemas, instructions)
        self.messages = [{"role": "system", "content": system}, *examples]

    def prompt(self, conversation) -> str:
        tools = {"tools": self.schemas} if self.native else {}
        messages = [*self.messages, *conversation]
        return self.tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True, **tools)

    def trim(self, text: str) -> str:
        end = text.find(self.stop)
        return text if end < 0 else text[: end + len(self.stop)]


def run_tool_calls(generate: Callable, questions, tools: dict, schemas, max_steps: int = 3) -> list[Episode]:
    """The loop in the native format; ``generate(list of message lists) -> replies``. A reply without a call is the
    answer; a call that cannot be read or fails validation becomes an ``Error: ...`` tool message, a valid one is run
    by ``act``. At most ``max_steps`` model calls per question; nothing the model writes raises."""
    episodes = start_episodes(questions, tools, max_steps)
    chats = {id(e): [{"role": "user", "content": e.question}] for e in episodes}
    for _ in range(max_steps):
        going = [e for e in episodes if e.ended == "running"]
        if not going:
            break
        for episode, reply in zip(going, replies_for(generate, [chats[id(e)] for e in going]), strict=True):
            episode.steps += 1
            call, problem = read_tool_call(reply)
            text = reply.strip() if isinstance(reply, str) else ""
            episode.scratchpad += text + "\n"
            if call is None and problem is None:
                episode.answer, episode.ended = text, "answer"
                continue
            problem = problem or validate_call(call, schemas)
            observation = problem or act(tools, call["name"], call.get("arguments", {}))
            if call is not None:
                episode.calls.append((call["name"], json.dumps(call.get("arguments")), observation))
            episode.scratchpad += f"Tool: {observation}\n"
            chats[id(episode)] += [{"role": "assistant", "content": text}, {"role": "tool", "content": observation}]
    return end_episodes(episodes)
