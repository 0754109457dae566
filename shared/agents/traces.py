"""Synthetic tool-use questions and ReAct traces for notebook 23, and the two artifacts it caches.

Three kinds of question, each with a tool that answers it exactly and a held-out split:

* ``arithmetic``: "What is 347 * 29?" -> ``calculator[347 * 29]``; test questions use operand pairs never trained on.
* ``lookup``: "Who mended an axe on monday?" -> ``search[on monday mended an axe]``; the answer (a person) is in the
  corpus sentence "on monday the doctor mended an axe.". Only facts whose answer the corpus fixes (one person did
  that on that day) are asked; a quarter of them is held out (never in a training trace).
* ``count``: "How many times does the word owl occur in the corpus?" -> ``count[owl]``; held-out words.

A trace starts with the tools the model may use. With tools it thinks, acts, reads the observation and answers;
with ``Tools: none`` it must answer directly (the same model's no-tools baseline). Training traces show the ideal
observation (the fact's own sentence); at test time the loop shows what the tool really returns.

Cached (``shared.cache``): ``corpus_index()`` (the corpus sentences and their encoder embeddings, for
``shared.agents.toolkit.Retriever``) and ``trace_lm_path()`` (the ``causal_lm`` role trained on traces with Lightning).
"""

from __future__ import annotations

import functools
import json
import random
import re
import zlib
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import pytorch_lightning as pl
import torch
from torch.utils.data import DataLoader

from shared.cache import cached, recipe_key
from shared.finetuned import artifact_key, load_lm
from shared.runtime import profile, rehearsal, seed

KINDS = ("arithmetic", "lookup", "count")
TOOL_OF = {"arithmetic": "calculator", "lookup": "search", "count": "count"}
SPLITS = ("train", "test")
THOUGHT = {
    "arithmetic": "I need exact arithmetic.",
    "lookup": "The corpus knows; I search it.",
    "count": "I count the word in the corpus.",
}
# The format's words become single tokens (the tiny profile's BPE, learned on the lower-case corpus, would spell
# "Observation:" in 11 pieces); their embeddings are learned with the rest.
FORMAT_TOKENS = [
    "Tools:",
    "Question:",
    "Thought:",
    "Action:",
    "Observation:",
    "Answer:",
    "calculator",
    "search",
    "count",
    "none",
]
_FACT = re.compile(r"^on (monday|tuesday|wednesday|thursday|friday|saturday|sunday) the ([a-z]+) ([a-z' ]+)\.$")
TRACE_RECIPE = {
    "tiny": dict(n_train=4000, no_tools_share=0.25, max_steps=1000, batch_size=32, lr=3e-3),
    "full": dict(n_train=4000, no_tools_share=0.25, max_steps=400, batch_size=16, lr=3e-4),
}


@dataclass(frozen=True)
class Task:
    """One question, its exact answer, and the tool call that finds it (``evidence``: the ideal observation)."""

    kind: str
    question: str
    answer: str
    argument: str
    evidence: str

    @property
    def tool(self) -> str:
        return TOOL_OF[self.kind]


def header(tools) -> str:
    """The first line of every prompt: the tools the model may call, or ``none``."""
    tools = list(tools)
    return f"Tools: {', '.join(tools) if tools else 'none'}\n"


def corpus_sentences() -> list[str]:
    """The corpus's distinct sentences, sorted (the retriever's index)."""
    return list(_sentences())


@functools.cache
def _sentences() -> tuple[str, ...]:
    from shared.data import corpus_paragraphs

    found = {s.strip() for p in corpus_paragraphs() for s in re.split(r"(?<=[.!?])\s+", p) if s.strip()}
    return tuple(sorted(found))


def _held_out(key: str) -> bool:
    return zlib.crc32(key.encode()) % 4 == 0  # a fixed quarter, the same on every machine and seed


def lookup_facts() -> list[tuple[str, str, str, str]]:
    """``(day, activity, person, sentence)`` for every "on <day> the <person> <activity>." whose (day, activity)
    names one person only in the whole corpus."""
    return list(_facts())


@functools.cache
def _facts() -> tuple:
    people: dict[tuple[str, str], set] = {}
    sentence = {}
    for s in corpus_sentences():
        m = _FACT.match(s)
        if m:
            day, person, activity = m.groups()
            people.setdefault((day, activity), set()).add(person)
            sentence[day, activity] = s
    return tuple((d, a, next(iter(p)), sentence[d, a]) for (d, a), p in sorted(people.items()) if len(p) == 1)


def word_counts() -> Counter:
    """How often each of the corpus's category words (``corpus_categories.json``) occurs, as whole words."""
    return Counter(_counts())


@functools.cache
def _counts() -> Counter:
    from shared.data import ASSETS, corpus_paragraphs

    categories = json.loads((ASSETS / "corpus_categories.json").read_text())
    words = {w for ws in categories.values() for w in ws}
    all_words = Counter(w for p in corpus_paragraphs() for w in re.findall(r"[a-z']+", p.lower()))
    return Counter({w: all_words[w] for w in sorted(words) if all_words[w] > 0})


def _arithmetic(rng: random.Random, split: str) -> Task:
    while True:
        op = rng.choice("+-*")
        a, b = (
            (rng.randint(100, 999), rng.randint(10, 99))
            if op == "*"
            else (rng.randint(1000, 9999), rng.randint(100, 999))
        )
        if _held_out(f"{a}{op}{b}") == (split == "test"):
            break
    expression = f"{a} {op} {b}"
    value = str({"+": a + b, "-": a - b, "*": a * b}[op])
    return Task("arithmetic", f"What is {expression}?", value, expression, value)


def make_tasks(n: int, split: str = "train", seed: int = 0, kinds=KINDS) -> list[Task]:
    """``n`` questions of the given kinds (in turn), from the ``train`` or the held-out ``test`` split."""
    if split not in SPLITS:
        raise ValueError(f"split={split!r}; expected one of {SPLITS}")
    if not isinstance(n, int) or n < 1:
        raise ValueError(f"n={n!r}; expected a positive integer")
    kinds = list(kinds)
    if not kinds or any(k not in KINDS for k in kinds):
        raise ValueError(f"kinds={kinds!r}; expected a non-empty selection of {KINDS}")
    rng = random.Random(f"{split}-{seed}")
    facts = [f for f in lookup_facts() if _held_out(f[0] + f[1]) == (split == "test")]
    counts = word_counts()
    words = [w for w in counts if _held_out(w) == (split == "test")]
    tasks = []
    for i in range(n):
        kind = kinds[i % len(kinds)]
        if kind == "arithmetic":
            tasks.append(_arithmetic(rng, split))
        elif kind == "lookup":
            day, activity, person, sentence = rng.choice(facts)
            tasks.append(Task("lookup", f"Who {activity} on {day}?", person, f"on {day} {activity}", sentence))
        else:
            word = rng.choice(words)
            tasks.append(
                Task(
                    "count",
                    f"How many times does the word {word} occur in the corpus?",
                    str(counts[word]),
                    word,
                    str(counts[word]),
                )
            )
    return tasks


def trace_segments(task: Task, tools: bool = True) -> list[tuple[str, bool]]:
    """The trace as ``(text, learn)`` pieces: the model learns to write the pieces marked ``True`` (thoughts,
    actions, answers); the header, the question and the observations are given to it."""
    given = header([*TOOL_OF.values()] if tools else []) + f"Question: {task.question}\n"
    if not tools:
        return [(given, False), (f"Answer: {task.answer}\n", True)]
    return [
        (given, False),
        (f"Thought: {THOUGHT[task.kind]}\nAction: {task.tool}[{task.argument}]\nObservation:", True),
        (f" {task.evidence}\n", False),
        (f"Answer: {task.answer}\n", True),
    ]


def trace_text(task: Task, tools: bool = True) -> str:
    return "".join(text for text, _ in trace_segments(task, tools))


def encode_trace(tokenizer, segments) -> tuple[list[int], list[int]]:
    """Token ids and labels (``-100`` where the model is not trained to write), ending with end-of-text."""
    ids, labels = [], []
    for text, learn in [*segments, (tokenizer.eos_token, True)]:
        piece = tokenizer(text, add_special_tokens=False)["input_ids"]
        ids += piece
        labels += piece if learn else [-100] * len(piece)
    return ids, labels


class TraceDataModule(pl.LightningDataModule):
    """Training traces for the ``causal_lm`` role: ``n_train`` tasks, a ``no_tools_share`` of them as direct
    answers; batches padded on the right (labels ``-100`` on padding)."""

    def __init__(
        self, tokenizer, n_train: int = 4000, no_tools_share: float = 0.25, batch_size: int = 32, seed: int = 0
    ):
        super().__init__()
        if not 0 <= no_tools_share < 1 or batch_size < 1:
            raise ValueError(
                f"no_tools_share={no_tools_share}, batch_size={batch_size}; expected a share in "
                "[0, 1) and batch_size >= 1"
            )
        self.tokenizer, self.batch_size = tokenizer, batch_size
        rng = random.Random(seed)
        tasks = make_tasks(n_train, "train", seed)
        self.examples = [
            encode_trace(tokenizer, trace_segments(t, tools=rng.random() >= no_tools_share)) for t in tasks
        ]

    def _collate(self, batch):
        width = max(len(ids) for ids, _ in batch)
        pad = self.tokenizer.pad_token_id
        ids = torch.tensor([i + [pad] * (width - len(i)) for i, _ in batch])
        labels = torch.tensor([lab + [-100] * (width - len(lab)) for _, lab in batch])
        return {"input_ids": ids, "attention_mask": (labels != -100) | (ids != pad), "labels": labels}

    def train_dataloader(self):
        return DataLoader(self.examples, batch_size=self.batch_size, shuffle=True, collate_fn=self._collate)


def trace_recipe() -> dict:
    recipe = dict(TRACE_RECIPE[profile().name])
    if profile().name == "full" and rehearsal():
        recipe.update(max_steps=TRACE_RECIPE["tiny"]["max_steps"] // 10)
    return recipe


def _train_trace_lm(folder: Path, recipe: dict) -> None:
    from shared.callbacks import History
    from shared.lightning_modules import CausalLMModule
    from shared.models import load_causal_lm
    from shared.trainer import make_trainer

    states = random.getstate(), torch.get_rng_state()  # the notebook's own random state is left as it was
    try:
        pl.seed_everything(seed(), workers=True, verbose=False)
        model, tokenizer = load_causal_lm()
        tokenizer.add_tokens(FORMAT_TOKENS)
        model.resize_token_embeddings(len(tokenizer), mean_resizing=False)
        data = TraceDataModule(tokenizer, recipe["n_train"], recipe["no_tools_share"], recipe["batch_size"], seed())
        module = CausalLMModule(model, tokenizer, lr=recipe["lr"])
        history = History()
        trainer = make_trainer(
            single_device=True,
            max_steps=recipe["max_steps"],
            limit_val_batches=0,
            callbacks=[history],
            logger=False,
            enable_checkpointing=False,
            enable_progress_bar=False,
        )
        trainer.fit(module, data)
        module.model.save_pretrained(folder)
        tokenizer.save_pretrained(folder)
        losses = history.series("train_loss")
        (folder / "recipe.json").write_text(json.dumps({**recipe, "steps": losses[0], "train_loss": losses[1]}))
    finally:
        random.setstate(states[0])
        torch.set_rng_state(states[1])


def trace_lm_path() -> Path:
    """A folder (model, tokenizer, ``recipe.json`` with the training-loss curve): the ``causal_lm`` role trained
    on tool-use traces with ``trace_recipe()``; trained once and cached."""
    from shared.models import HUB_IDS, tiny_gpt2_path

    recipe = trace_recipe()
    weights = HUB_IDS["causal_lm"] if profile().name == "full" else tiny_gpt2_path().name
    example = [trace_text(t, tools) for t in make_tasks(3, "train") for tools in (True, False)]
    key = artifact_key(weights, recipe, example, len(lookup_facts()))
    return cached("trace-lm", key, lambda folder: _train_trace_lm(folder, recipe), what="the tool-use trace LM")


def load_trace_lm():
    """``(model, tokenizer, recipe)``: the cached trace model (eval mode), its tokenizer and its training record."""
    folder = trace_lm_path()
    return *load_lm(folder), json.loads((folder / "recipe.json").read_text())


def sentence_encoder(model, tokenizer, batch_size: int = 256):
    """``encode(list of texts) -> (n, dim)`` mean-pooled sentence embeddings from an encoder (``load_encoder()``),
    computed where the model is (its inputs are made on its device) and returned on the CPU."""
    from shared.lightning_modules import mean_pool

    @torch.no_grad()
    def encode(texts) -> torch.Tensor:
        if isinstance(texts, str) or not texts:
            raise ValueError("expected a non-empty list of texts")
        out = []
        for i in range(0, len(texts), batch_size):
            batch = tokenizer(
                list(texts[i : i + batch_size]), return_tensors="pt", padding=True, truncation=True, max_length=48
            ).to(model.device)
            out.append(mean_pool(model(**batch).last_hidden_state, batch["attention_mask"]).cpu())
        return torch.cat(out)

    return encode


def encode_sentences(texts) -> torch.Tensor:
    """Embeddings of ``texts`` from the ``encoder`` role (all-MiniLM-L6-v2 in the tiny profile,
    distilbert-base-uncased in the full one), mean-pooled, on the CPU (the cached index is built with it)."""
    return sentence_encoder(*_encoder())(texts)


_ENCODER: list = []


def _encoder():
    from shared.models import load_encoder

    if not _ENCODER:
        model, tokenizer = load_encoder()
        _ENCODER.append((model.eval(), tokenizer))
    return _ENCODER[0]


def corpus_index_path() -> Path:
    """The folder holding ``index.safetensors``: the encoder embeddings of ``corpus_sentences()``, made once."""
    import transformers
    from safetensors.torch import save_file

    from shared.models import HUB_IDS, MINILM_SHA256

    sentences = corpus_sentences()

    def build(folder: Path) -> None:
        save_file({"embeddings": encode_sentences(sentences).contiguous()}, str(folder / "index.safetensors"))

    key = recipe_key(
        HUB_IDS["encoder"] if profile().name == "full" else MINILM_SHA256,
        rehearsal(),
        sentences,
        transformers.__version__,
    )
    return cached("corpus-index", key, build, what="the embeddings of the corpus sentences")


def corpus_index() -> tuple[list[str], torch.Tensor]:
    """``(sentences, embeddings)``: the corpus sentences and their encoder embeddings (cached, see above)."""
    from safetensors.torch import load_file

    return corpus_sentences(), load_file(str(corpus_index_path() / "index.safetensors"))["embeddings"]
