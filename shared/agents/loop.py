"""A ReAct agent loop (Yao et al., 2022): the model writes a thought and an action, the loop runs the tool and
feeds the observation back, until the model answers or the step limit is reached.

One step of the scratchpad the model continues:

    Thought: I need exact arithmetic.
    Action: calculator[347 * 29]
    Observation: 10063                <- written by the loop, never by the model
    Thought: I know the answer.
    Answer: 10063

``run_agent(generate, questions, tools)`` runs many questions side by side: at every step it asks ``generate`` for
the next reply of every episode that is still going (one batched model call), parses each reply, runs the tool it
names (``shared.agents.toolkit``: a refusal becomes an ``Error: ...`` observation, nothing is ever evaluated) and
appends the
observation. The loop is a ``for`` over ``max_steps``: it always ends. ``ChatAgent`` turns an instruction-tuned chat
model into such a ``generate``; ``TextAgent`` does the same for a plain causal LM trained on traces.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

import torch

from shared.agents.toolkit import ToolError

ACTION = re.compile(r"Action:\s*([A-Za-z_]\w*)\s*\[([^\]\n]*)\]")
ANSWER = re.compile(r"Answer:[ \t]*([^\n]*)")
NO_ACTION = "Error: no action found; write 'Action: tool[input]' or 'Answer: ...'"


@dataclass
class Episode:
    """One question's run: the scratchpad the model saw and wrote, the tool calls and how it ended."""

    question: str
    scratchpad: str = ""
    answer: str | None = None
    steps: int = 0
    calls: list = field(default_factory=list)  # (tool, input, observation)
    ended: str = "running"  # then "answer" or "step limit"

    def transcript(self) -> str:
        return f"Question: {self.question}\n{self.scratchpad}".rstrip()


def parse(reply: str):
    """``("answer", text)``, ``("action", tool, input)`` or ``("none",)`` for one model reply; whichever of
    ``Answer:`` and a complete ``Action: tool[input]`` comes first wins. Returns the text up to its end, too."""
    if not isinstance(reply, str):
        raise ValueError(f"expected the model's reply as a string; got {type(reply).__name__}")
    action, answer = ACTION.search(reply), ANSWER.search(reply)
    if answer and (action is None or answer.start() < action.start()) and answer.group(1).strip():
        return ("answer", answer.group(1).strip()), reply[: answer.end()]
    if action:
        return ("action", action.group(1), action.group(2).strip()), reply[: action.end()]
    return ("none",), reply


MAX_OBSERVATION = 500  # characters of a tool's answer shown to the model
SHARED_PREFIX = 64  # tokens all prompts of a batch must share before their prefix is run once and cached


def _explain(err: BaseException) -> str:
    try:
        return str(err)
    except Exception:  # an exception whose message itself fails
        return "(no message)"


def act(tools: dict, name: str, argument) -> str:
    """Run one tool call and return the observation. ``argument``: the tool's input text, or a dict of keyword
    arguments (a validated JSON tool call). An unknown tool, a refused input (``ToolError``: ``Error: <why>``) and any
    other exception of the tool (a bug in it: ``Error: <type>: <message>``) all become an observation the model reads
    and can recover from, as agent frameworks do; the episode goes on."""
    if name not in tools:
        return f"Error: unknown tool {name!r}; expected one of: {', '.join(tools) or 'none (answer directly)'}"
    try:
        observation = str(tools[name](**argument) if isinstance(argument, dict) else tools[name](argument))
    except ToolError as err:
        return f"Error: {_explain(err)}"
    except Exception as err:
        return f"Error: {type(err).__name__}: {_explain(err)}"
    return observation[:MAX_OBSERVATION]


def run_agent(generate: Callable, questions, tools: dict, max_steps: int = 4) -> list[Episode]:
    """Run the ReAct loop for every question; ``generate(list of (question, scratchpad)) -> list of replies``.

    At most ``max_steps`` model calls per question; an episode ends with its first answer, or at the limit with
    ``answer=None`` and ``ended="step limit"``. Nothing a model writes can raise out of the loop: a reply that is not
    text counts as no action, and every tool error becomes an observation (``act``).
    """
    episodes = start_episodes(questions, tools, max_steps)
    for _ in range(max_steps):
        going = [e for e in episodes if e.ended == "running"]
        if not going:
            break
        for episode, reply in zip(
            going, replies_for(generate, [(e.question, e.scratchpad) for e in going]), strict=True
        ):
            episode.steps += 1
            parsed, text = parse(reply if isinstance(reply, str) else "")  # no text: no action
            episode.scratchpad += text.strip() + "\n"
            if parsed[0] == "answer":
                episode.answer, episode.ended = parsed[1], "answer"
                continue
            observation = act(tools, *parsed[1:]) if parsed[0] == "action" else NO_ACTION
            if parsed[0] == "action":
                episode.calls.append((*parsed[1:], observation))
            episode.scratchpad += f"Observation: {observation}\n"
    return end_episodes(episodes)


def start_episodes(questions, tools: dict, max_steps: int) -> list[Episode]:
    """One running ``Episode`` per question, after checking the loop's arguments."""
    if isinstance(questions, str) or not questions or not all(isinstance(q, str) and q.strip() for q in questions):
        raise ValueError("expected a non-empty list of non-empty questions")
    if not isinstance(max_steps, int) or max_steps < 1:
        raise ValueError(f"max_steps={max_steps!r}; expected a positive integer")
    if not isinstance(tools, dict) or not all(callable(t) for t in tools.values()):
        raise ValueError("expected tools as a dict of name -> callable(str) -> str")
    return [Episode(q) for q in questions]


def replies_for(generate: Callable, prompts: list) -> list:
    """One reply per prompt from ``generate`` (a batched model call), or a clear error."""
    replies = generate(prompts)
    if len(replies) != len(prompts):
        raise ValueError(f"generate returned {len(replies)} replies for {len(prompts)} prompts")
    return replies


def end_episodes(episodes: list[Episode]) -> list[Episode]:
    """Mark every episode still running as ended by the step limit."""
    for episode in episodes:
        if episode.ended == "running":
            episode.ended = "step limit"
    return episodes


class _Generator:
    """Greedy batched generation that stops at ``stop`` (by default "Observation:": the loop, not the model, writes
    observations). Inputs are made on the model's device."""

    def __init__(self, model, tokenizer, max_new_tokens: int = 40, stop: str = "Observation:"):
        if not isinstance(max_new_tokens, int) or max_new_tokens < 1:
            raise ValueError(f"max_new_tokens={max_new_tokens!r}; expected a positive integer")
        self.model, self.tokenizer, self.max_new_tokens, self.stop = model.eval(), tokenizer, max_new_tokens, stop

    def prompt(self, *item) -> str:
        raise NotImplementedError

    def trim(self, text: str) -> str:
        """The reply: what the model wrote before the stop string."""
        return text.split(self.stop)[0]

    @torch.no_grad()
    def __call__(self, items) -> list[str]:
        prompts = [self.prompt(*item) if isinstance(item, tuple) else self.prompt(item) for item in items]
        # A model with learned positions (GPT-2) cannot read past its context: a prompt that leaves no room gets
        # an empty reply (the loop then shows "no action" and the step limit ends the episode).
        limit = getattr(self.model.config, "n_positions", None) or getattr(
            self.model.config, "max_position_embeddings", 10**9
        )
        encoded = self.tokenizer(prompts, add_special_tokens=False)["input_ids"]
        fits = [i for i, ids in enumerate(encoded) if len(ids) < limit]
        replies = [""] * len(prompts)
        if not fits:
            return replies
        ids, mask, cache = self._inputs([encoded[i] for i in fits])
        out = self.model.generate(
            input_ids=ids,
            attention_mask=mask,
            past_key_values=cache,
            max_new_tokens=min(self.max_new_tokens, limit - ids.shape[1]),
            do_sample=False,
            stop_strings=[self.stop],
            tokenizer=self.tokenizer,
            pad_token_id=self.tokenizer.pad_token_id,
        )
        texts = self.tokenizer.batch_decode(out[:, ids.shape[1] :], skip_special_tokens=True)
        for i, text in zip(fits, texts, strict=True):
            replies[i] = self.trim(text)
        return replies

    def _inputs(self, encoded: list[list[int]]):
        """Token ids and attention mask on the model's device, and a cache of the prompts' shared prefix (a system
        message, worked examples), run once and repeated for the batch instead of once per prompt: each row is the
        prefix, then padding, then the prompt's own rest. Without a long shared prefix: plain left padding."""
        shared = 0
        while shared < min(map(len, encoded)) - 1 and len({ids[shared] for ids in encoded}) == 1:
            shared += 1
        shared = shared if shared >= SHARED_PREFIX else 0
        width, pad = max(map(len, encoded)), self.tokenizer.pad_token_id
        rows = [ids[:shared] + [pad] * (width - len(ids)) + ids[shared:] for ids in encoded]
        mask = [[1] * shared + [0] * (width - len(ids)) + [1] * (len(ids) - shared) for ids in encoded]
        ids, mask = torch.tensor(rows, device=self.model.device), torch.tensor(mask, device=self.model.device)
        if not shared:
            return ids, mask, None
        from transformers import DynamicCache

        cache = DynamicCache()
        self.model(input_ids=ids[:1, :shared], past_key_values=cache, use_cache=True)
        cache.batch_repeat_interleave(len(rows))
        return ids, mask, cache


class ChatAgent(_Generator):
    """An instruction-tuned chat model prompted with the tool format: a system message that lists the tools,
    worked examples as earlier turns (``examples``: (question, full scratchpad) pairs), then the question; the
    assistant's turn is the scratchpad, continued step by step."""

    def __init__(self, model, tokenizer, system: str, examples=(), max_new_tokens: int = 40):
        super().__init__(model, tokenizer, max_new_tokens)
        if not system.strip():
            raise ValueError("expected a system message that explains the tools and the format")
        self.messages = [{"role": "system", "content": system}]
        for question, scratchpad in examples:
            self.messages += [{"role": "user", "content": question}, {"role": "assistant", "content": scratchpad}]

    def prompt(self, question: str, scratchpad: str) -> str:
        messages = [*self.messages, {"role": "user", "content": question}]
        return self.tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True) + scratchpad


class TextAgent(_Generator):
    """A plain causal LM trained on traces in the format ``<header>Question: ...\\n<scratchpad>``; the header (e.g.
    ``"Tools: calculator, search\\n"``, see ``shared.agents.traces.header``) tells the model which tools it may call."""

    def __init__(self, model, tokenizer, header: str = "", max_new_tokens: int = 40):
        super().__init__(model, tokenizer, max_new_tokens)
        if not isinstance(header, str) or (header and not header.endswith("\n")):
            raise ValueError(f"header={header!r}; expected text ending with a newline, or empty")
        self.header = header

    def prompt(self, question: str, scratchpad: str) -> str:
        return f"{self.header}Question: {question}\n{scratchpad}"
