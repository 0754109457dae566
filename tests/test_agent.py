"""shared.agents.toolkit (the calculator's whitelist, the word counter, the retriever) and shared.agents.loop (parsing,
the loop's
step limit, tool errors as observations)."""

import pytest
import torch

from shared.agents.loop import NO_ACTION, act, parse, run_agent
from shared.agents.toolkit import Retriever, ToolError, calculator, word_counter


@pytest.mark.parametrize(
    ("expression", "value"),
    [
        ("347 * 29", "10063"),
        ("(2 + 3) ** 2 / 4", "6.25"),
        ("7 // 2", "3"),
        ("7 % 3", "1"),
        ("-3 + +5", "2"),
        ("10 / 4", "2.5"),
        ("6 / 3", "2"),
        ("2 ** 10", "1024"),
        ("12345678901234567890 * 10", "123456789012345678900"),
    ],
)
def test_calculator_hand_values(expression, value):
    assert calculator(expression) == value


@pytest.mark.parametrize(
    "hostile",
    [
        "__import__('os').system('ls')",
        "import os",
        "().__class__.__bases__",
        "open('/etc/passwd')",
        "9 ** 9 ** 9",
        "10 ** 1000",
        "2 ** 100000",
        "(10 ** 60) * (10 ** 60)",
        "'a' * 3",
        "[1, 2][0]",
        "lambda: 1",
        "x + 1",
        "True + 1",
        "1 / 0",
        "5 % 0",
        "0 ** -1",
        "what is two plus two",
        "1 +",
        "",
        "1" * 300,
        "(-8) ** 0.5",
        "[x for x in range(10)]",
    ],
)
def test_calculator_refuses_hostile_input(hostile):
    with pytest.raises(ToolError) as err:
        calculator(hostile)
    assert "expected" in str(err.value) or "not" in str(err.value) or "division" in str(err.value)


def test_calculator_rejects_non_text():
    with pytest.raises(ToolError, match="as text"):
        calculator(42)


def test_word_counter():
    count = word_counter(["The owl sees the owl.", "An OWL!"])
    assert count("owl") == "3" and count("the") == "2" and count("cat") == "0" and count("'Owl'") == "3"
    with pytest.raises(ToolError, match="one word"):
        count("two words")


def test_retriever_returns_the_nearest_sentence():
    vocab = ["cat", "dog", "fish"]

    def encode(texts):  # bag of words over a 3-word vocabulary
        return torch.tensor([[float(w in t) for w in vocab] for t in texts])

    sentences = ["the cat sleeps", "a dog barks", "fish swim"]
    retriever = Retriever(sentences, encode)
    assert retriever("where is the dog") == "a dog barks"
    assert torch.allclose(retriever.scores("fish"), torch.tensor([0.0, 0.0, 1.0]))
    assert Retriever(sentences, encode, k=2)("cat and dog").split(" ")[:3] in (
        ["the", "cat", "sleeps"],
        ["a", "dog", "barks"],
    )
    with pytest.raises(ValueError, match="k="):
        Retriever(sentences, encode, k=4)
    with pytest.raises(ValueError, match="one embedding per sentence"):
        Retriever(sentences, encode, embeddings=torch.zeros(2, 3))
    with pytest.raises(ValueError, match="non-empty"):
        Retriever([], encode)


def test_parse():
    assert parse("Thought: x\nAction: calculator[2 + 2]\nObservation: 5")[0] == ("action", "calculator", "2 + 2")
    assert parse("Thought: done\nAnswer: 4\nmore")[0] == ("answer", "4")
    assert parse("Thought: done\nAnswer: 4")[1] == "Thought: done\nAnswer: 4"
    assert parse("Answer: 4\nAction: calculator[1]")[0] == ("answer", "4")
    assert parse("Action: calculator[1]\nAnswer: 4")[0][0] == "action"
    assert parse("I am not sure")[0] == ("none",)
    with pytest.raises(ValueError, match="string"):
        parse(None)


def test_act_turns_refusals_and_unknown_tools_into_observations():
    tools = {"calculator": calculator}
    assert act(tools, "calculator", "2 * 3") == "6"
    assert act(tools, "calculator", "__import__('os')").startswith("Error: ")
    assert act(tools, "shell", "ls").startswith("Error: unknown tool 'shell'")


def test_loop_uses_observations_and_ends_with_an_answer():
    def generate(items):
        replies = []
        for _, pad in items:
            if "Observation:" in pad:
                replies.append(f"Answer: {pad.split('Observation: ')[-1].strip()}")
            else:
                replies.append("Thought: compute\nAction: calculator[6 * 7]")
        return replies

    (episode,) = run_agent(generate, ["What is 6 * 7?"], {"calculator": calculator})
    assert episode.answer == "42" and episode.ended == "answer" and episode.steps == 2
    assert episode.calls == [("calculator", "6 * 7", "42")]
    assert "Observation: 42" in episode.transcript()


def test_loop_always_ends_at_the_step_limit():
    calls = []

    def stubborn(items):
        calls.append(len(items))
        return ["Thought: again\nAction: calculator[1 + 1]" if i % 2 else "hmm" for i in range(len(items))]

    episodes = run_agent(stubborn, ["a", "b", "c"], {"calculator": calculator}, max_steps=3)
    assert calls == [3, 3, 3]
    assert all(e.ended == "step limit" and e.answer is None and e.steps == 3 for e in episodes)
    assert episodes[0].scratchpad.count(NO_ACTION) == 3 and len(episodes[1].calls) == 3


def test_loop_validates_input():
    tools = {"calculator": calculator}
    with pytest.raises(ValueError, match="questions"):
        run_agent(lambda items: [], "a question", tools)
    with pytest.raises(ValueError, match="max_steps"):
        run_agent(lambda items: [], ["q"], tools, max_steps=0)
    with pytest.raises(ValueError, match="replies"):
        run_agent(lambda items: [], ["q"], tools)
    with pytest.raises(ValueError, match="tools"):
        run_agent(lambda items: ["Answer: 1"], ["q"], {"calculator": 3})


def test_text_agent_prompt_carries_the_header():
    from shared.agents.loop import TextAgent

    class Model:
        def eval(self):
            return self

    agent = TextAgent(Model(), None, header="Tools: calculator\n")
    assert agent.prompt("What is 1 + 1?", "Thought: x\n") == "Tools: calculator\nQuestion: What is 1 + 1?\nThought: x\n"
    with pytest.raises(ValueError, match="header"):
        TextAgent(Model(), None, header="no newline")


def test_generation_never_runs_past_the_context():
    from types import SimpleNamespace

    from shared.agents.loop import TextAgent

    class Tok:  # one token per character, left padding with 0
        pad_token_id = 0

        def __call__(self, texts, return_tensors=None, padding=False, padding_side="left", add_special_tokens=False):
            ids = [[ord(c) for c in t] for t in texts]
            if return_tensors is None:
                return {"input_ids": ids}
            width = max(map(len, ids))
            batch = {"input_ids": torch.tensor([[0] * (width - len(i)) + i for i in ids])}
            return SimpleNamespace(to=lambda device: batch)

        def batch_decode(self, out, skip_special_tokens=True):
            return ["".join(map(chr, row)) for row in out.tolist()]

    class Model:
        config, device, asked = SimpleNamespace(n_positions=30), "cpu", []

        def eval(self):
            return self

        def generate(self, input_ids, max_new_tokens, **kwargs):
            self.asked.append(max_new_tokens)
            return torch.cat([input_ids, torch.full((len(input_ids), max_new_tokens), ord("x"))], 1)

    model = Model()
    agent = TextAgent(model, Tok(), max_new_tokens=40)
    short, long = ("q", ""), ("q", "y" * 40)  # prompts of 12 and 52 characters
    assert agent([short, long]) == ["x" * 18, ""] and model.asked == [18]
    assert agent([long]) == [""] and model.asked == [18]
