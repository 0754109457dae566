"""shared.agents.traces: questions with exact answers, a held-out split that never leaks into training, traces whose
loss masks what the loop supplies."""

import pytest

from shared.agents import traces
from shared.agents.loop import parse
from shared.agents.toolkit import calculator, word_counter


def test_tasks_have_exact_answers_their_tool_confirms():
    from shared.data import corpus_paragraphs

    count = word_counter(corpus_paragraphs())
    for task in traces.make_tasks(30, "train") + traces.make_tasks(30, "test"):
        if task.kind == "arithmetic":
            assert calculator(task.argument) == task.answer
        elif task.kind == "count":
            assert count(task.argument) == task.answer
        else:
            assert task.answer in task.evidence.split() and task.evidence.startswith(f"on {task.argument.split()[1]}")


def test_held_out_questions_never_appear_in_training():
    train = traces.make_tasks(600, "train")
    test = traces.make_tasks(300, "test", seed=1)
    assert not {t.question for t in train} & {t.question for t in test}
    assert not {t.argument for t in train if t.kind == "count"} & {t.argument for t in test if t.kind == "count"}
    assert traces.make_tasks(5, "test", seed=1) == test[:5]  # deterministic


def test_lookup_facts_name_one_person():
    facts = traces.lookup_facts()
    assert len(facts) > 100 and len({(d, a) for d, a, _, _ in facts}) == len(facts)


def test_trace_format_parses_and_masks_observations():
    task = traces.make_tasks(1, "train", kinds=["lookup"])[0]
    text = traces.trace_text(task)
    assert text.startswith("Tools: calculator, search, count\nQuestion: ")
    after_question = text.split("\n", 2)[2]
    assert parse(after_question)[0] == ("action", task.tool, task.argument)
    assert traces.trace_text(task, tools=False).endswith(f"Answer: {task.answer}\n")
    learned = "".join(t for t, learn in traces.trace_segments(task) if learn)
    assert "Observation:" in learned and task.evidence not in learned.split("Observation:")[1]


def test_encode_trace_labels():
    class Tok:  # one token per character
        eos_token = "$"

        def __call__(self, text, add_special_tokens=False):
            return {"input_ids": [ord(c) for c in text]}

    ids, labels = traces.encode_trace(Tok(), [("ab", False), ("cd", True)])
    assert ids == [97, 98, 99, 100, 36] and labels == [-100, -100, 99, 100, 36]


def test_validation():
    with pytest.raises(ValueError, match="split"):
        traces.make_tasks(3, "dev")
    with pytest.raises(ValueError, match="kinds"):
        traces.make_tasks(3, kinds=["poetry"])
    with pytest.raises(ValueError, match="positive"):
        traces.make_tasks(0)
    with pytest.raises(ValueError, match="texts"):
        traces.encode_sentences("one text")
    assert traces.header([]) == "Tools: none\n"
