"""shared.evaluation.metrics and the course's evaluate modules: each equals its reference implementation (torchmetrics,
sacrebleu, rouge_score) on many random inputs, through the plain function and through evaluate.load; bad inputs
get clear errors."""

import math
import random

import evaluate
import pytest
import sacrebleu
import torch
from rouge_score import rouge_scorer
from torchmetrics.classification import MulticlassAccuracy, MulticlassF1Score
from torchmetrics.text import Perplexity

from shared.evaluation import metrics

WORDS = [
    "the",
    "cat",
    "sat",
    "on",
    "a",
    "mat",
    "dog",
    "barked",
    "at",
    "3.5",
    "o'clock",
    "mat,",
    "(really)",
    "-",
    "well-known",
    "U.S.",
    "$5",
    "10,000",
    "it's",
    "Cat",
    "end.",
]


def sentence(rng, low=0, high=12):
    return " ".join(rng.choice(WORDS) for _ in range(rng.randint(low, high)))


@pytest.fixture(scope="module")
def modules():
    return {name: evaluate.load(metrics.metric_path(name)) for name in metrics.METRICS}


@pytest.mark.parametrize("seed", range(6))
def test_accuracy_f1_equals_torchmetrics(seed, modules):
    g = torch.Generator().manual_seed(seed)
    classes = 2 + seed % 3
    preds, refs = torch.randint(classes, (50,), generator=g), torch.randint(classes, (50,), generator=g)
    if seed == 5:
        preds[preds == 0], refs[refs == 0] = 1, 1  # class 0 absent from both: left out of the macro average
    acc = MulticlassAccuracy(num_classes=classes, average="micro")(preds, refs).item()
    f1 = MulticlassF1Score(num_classes=classes, average="macro")(preds, refs).item()
    for ours in (
        metrics.accuracy_f1(preds.tolist(), refs.tolist(), num_classes=classes),
        modules["accuracy_f1"].compute(predictions=preds, references=refs, num_classes=classes),
    ):
        assert ours["accuracy"] == pytest.approx(acc, abs=1e-6) and ours["f1"] == pytest.approx(f1, abs=1e-6)


@pytest.mark.parametrize("seed", range(4))
def test_perplexity_equals_torchmetrics(seed, modules):
    g = torch.Generator().manual_seed(seed)
    logits = torch.randn(3, 9, 20, generator=g, dtype=torch.float64) * 2
    target = torch.randint(20, (3, 9), generator=g)
    target[1, 6:] = -100  # a shorter text, padded
    reference = Perplexity(ignore_index=-100).to(torch.float64)(logits, target).item()
    logprobs = logits.log_softmax(-1)
    per_text = [[logprobs[b, i, target[b, i]].item() for i in range(9) if target[b, i] != -100] for b in range(3)]
    for ours in (metrics.perplexity(per_text), modules["perplexity"].compute(predictions=per_text)):
        assert ours["perplexity"] == pytest.approx(reference, rel=1e-9)
        each = [math.exp(-sum(lp) / len(lp)) for lp in per_text]
        assert ours["perplexities"] == pytest.approx(each) and ours["mean_perplexity"] == pytest.approx(sum(each) / 3)


def test_perplexity_per_word_and_by_hand():
    out = metrics.perplexity([[math.log(0.5)] * 4, [math.log(0.25)] * 2], units=[2, 1])
    assert out["perplexity"] == pytest.approx(math.exp((4 * math.log(2) + 2 * math.log(4)) / 3))
    assert metrics.perplexity([[math.log(0.5)] * 3])["perplexity"] == pytest.approx(2.0)


@pytest.mark.parametrize("seed", range(25))
def test_bleu_equals_sacrebleu(seed, modules):
    rng = random.Random(seed)
    n, n_refs = rng.randint(1, 6), rng.randint(1, 3)
    preds = [sentence(rng, 0 if seed % 5 == 0 else 1) for _ in range(n)]
    refs = [[sentence(rng, 1) for _ in range(n_refs)] for _ in range(n)]
    if seed % 4 == 0:  # near copies: high scores, every order of n-gram matched
        preds = [r[0].replace("cat", "dog") for r in refs]
    reference = sacrebleu.corpus_bleu(preds, [list(r) for r in zip(*refs, strict=True)])
    for ours in (metrics.bleu(preds, refs), modules["bleu"].compute(predictions=preds, references=refs)):
        assert ours["bleu"] == pytest.approx(reference.score, abs=1e-9)
        assert ours["precisions"] == pytest.approx(reference.precisions, abs=1e-9)
        assert ours["brevity_penalty"] == pytest.approx(reference.bp, abs=1e-12)


def test_bleu_tokenization_equals_sacrebleu():
    tokenize = sacrebleu.tokenizers.tokenizer_13a.Tokenizer13a()
    for line in [
        "Hello, world!",
        "It costs $5.50 (or 3,000 yen).",
        "well-known 1990-2000 &quot;quoted&quot;",
        "U.S.A. isn't e.g. here",
        "a<skipped>b -\nc",
    ]:
        assert metrics.tokenize_13a(line) == tokenize(line).split()


@pytest.mark.parametrize("seed", range(20))
def test_rouge_equals_rouge_score(seed, modules):
    rng = random.Random(seed)
    preds = [sentence(rng, 0 if seed % 5 == 0 else 1) for _ in range(4)]
    refs = [sentence(rng, 1) for _ in range(4)]
    scorer = rouge_scorer.RougeScorer(["rouge1", "rouge2", "rougeL"], use_stemmer=False)
    scores = [scorer.score(r, p) for p, r in zip(preds, refs, strict=True)]
    expected = {k: sum(s[k].fmeasure for s in scores) / 4 for k in ("rouge1", "rouge2", "rougeL")}
    for ours in (metrics.rouge(preds, refs), modules["rouge"].compute(predictions=preds, references=refs)):
        assert ours == pytest.approx(expected, abs=1e-12)


@pytest.mark.parametrize(
    "call",
    [
        lambda: metrics.accuracy_f1([], []),
        lambda: metrics.bleu([], []),
        lambda: metrics.rouge([], []),
        lambda: metrics.perplexity([]),
    ],
)
def test_empty_predictions_are_refused(call):
    with pytest.raises(ValueError, match="expected at least one"):
        call()


@pytest.mark.parametrize(
    "call",
    [
        lambda: metrics.accuracy_f1([1, 0], [1]),
        lambda: metrics.bleu(["a b"], [["a b"], ["c"]]),
        lambda: metrics.rouge(["a"], []),
        lambda: metrics.perplexity([[-1.0]], units=[1, 2]),
    ],
)
def test_mismatched_lengths_are_refused(call):
    with pytest.raises(ValueError, match="expected as many"):
        call()


def test_other_bad_inputs(modules):
    with pytest.raises(ValueError, match="unknown metric 'sacrebleu'; expected one of"):
        metrics.metric_path("sacrebleu")
    with pytest.raises(ValueError, match=r"expected class ids in \[0, 2\)"):
        metrics.accuracy_f1([0, 2], [0, 1], num_classes=2)
    with pytest.raises(ValueError, match=r"expected log-probabilities \(<= 0\)"):
        metrics.perplexity([[0.5]])
    with pytest.raises(ValueError, match="at least one token"):
        metrics.perplexity([[]])
    with pytest.raises(ValueError, match="at least one reference"):
        metrics.bleu(["a"], [[]])
    with pytest.raises(ValueError, match="expected at least one prediction"):
        modules["rouge"].compute(predictions=[], references=[])
    with pytest.raises(ValueError, match="Mismatch in the number of predictions"):
        modules["accuracy_f1"].compute(predictions=[0, 1], references=[1])


def test_token_logprobs_score_every_token():
    from transformers import GPT2Config, GPT2LMHeadModel

    from shared.models import load_tokenizer

    tokenizer = load_tokenizer("causal_lm")
    torch.manual_seed(0)
    model = GPT2LMHeadModel(GPT2Config(vocab_size=len(tokenizer), n_positions=64, n_embd=16, n_layer=1, n_head=2))
    texts = ["the owl slept.", "on monday the baker baked bread."]
    out = metrics.token_logprobs(model, tokenizer, texts)
    assert [len(lp) for lp in out] == [len(tokenizer(t)["input_ids"]) for t in texts]
    ids = torch.tensor([[tokenizer.eos_token_id, *tokenizer(texts[0])["input_ids"]]])
    with torch.no_grad():
        expected = model(ids).logits[0, :-1].log_softmax(-1).gather(-1, ids[0, 1:, None]).squeeze(-1)
    assert torch.allclose(torch.tensor(out[0]), expected, atol=1e-5)
    with pytest.raises(ValueError, match="expected at least one text"):
        metrics.token_logprobs(model, tokenizer, [])
