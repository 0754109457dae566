"""Evaluation metrics written from their definitions, plus the folders of the ``evaluate`` modules that wrap them.

The course ships its metric modules as local scripts (``shared/evaluation/metric_modules/<name>/<name>.py``):
``evaluate.load(metric_path("bleu"))`` works offline, where ``evaluate.load("bleu")`` would fetch a script from the
Hub. Each module's ``_compute`` calls the function here, and the tests check each one against a reference
implementation: accuracy and F1 against torchmetrics, perplexity against ``torchmetrics.text.Perplexity``, BLEU
against sacrebleu, ROUGE against Google's ``rouge_score``.

* ``accuracy_f1``: accuracy and macro-F1 (a class that appears neither in the predictions nor in the references
  is left out of the average, as torchmetrics does).
* ``perplexity``: from each text's token log-probabilities: exp(-total log-probability / units), units = tokens
  by default, or any count you pass (words, to compare models with different tokenizers).
* ``bleu``: corpus BLEU (Papineni et al., 2002) as sacrebleu computes it: 13a tokenization, clipped n-gram
  precisions up to 4-grams, brevity penalty against the closest reference length, "exp" smoothing.
* ``rouge``: ROUGE-1, ROUGE-2 (n-gram overlap) and ROUGE-L (longest common subsequence) F-measures, averaged over
  the pairs, with rouge_score's tokenization (lower case, letters and digits only, no stemming).
"""

from __future__ import annotations

import math
import re
from collections import Counter
from pathlib import Path

import torch

MODULES = Path(__file__).parent / "metric_modules"
METRICS = ("accuracy_f1", "perplexity", "bleu", "rouge")


def metric_path(name: str) -> str:
    """The folder of the course's ``evaluate`` module ``name``: pass it to ``evaluate.load``."""
    if name not in METRICS:
        raise ValueError(f"unknown metric {name!r}; expected one of: {', '.join(METRICS)}")
    return str(MODULES / name)


def _pairs(predictions, references, what: str) -> None:
    if len(predictions) == 0:
        raise ValueError(f"{what}: expected at least one prediction; got none")
    if len(predictions) != len(references):
        raise ValueError(
            f"{what}: expected as many references as predictions; got {len(predictions)} predictions "
            f"and {len(references)} references"
        )


def accuracy_f1(predictions, references, num_classes: int | None = None) -> dict[str, float]:
    """``accuracy`` and macro-averaged ``f1`` of integer class predictions."""
    _pairs(predictions, references, "accuracy_f1")
    preds, refs = [int(p) for p in predictions], [int(r) for r in references]
    if num_classes is not None and not 0 <= min(preds + refs) <= max(preds + refs) < num_classes:
        raise ValueError(f"expected class ids in [0, {num_classes}); got {min(preds + refs)}..{max(preds + refs)}")
    classes = range(num_classes) if num_classes is not None else sorted(set(preds) | set(refs))
    f1s = []
    for c in classes:
        tp = sum(p == c == r for p, r in zip(preds, refs, strict=True))
        fp = sum(p == c != r for p, r in zip(preds, refs, strict=True))
        fn = sum(r == c != p for p, r in zip(preds, refs, strict=True))
        if tp + fp + fn:  # a class nobody predicted and nothing belongs to has no F1
            f1s.append(2 * tp / (2 * tp + fp + fn))
    accuracy = sum(p == r for p, r in zip(preds, refs, strict=True)) / len(preds)
    return {"accuracy": accuracy, "f1": sum(f1s) / len(f1s)}


def perplexity(logprobs, units=None) -> dict:
    """``perplexity`` = exp(-sum of all token log-probabilities / total units) over every text; also each text's
    own perplexity (``perplexities``) and their mean (``mean_perplexity``, what Hugging Face's module reports).

    ``logprobs``: one list of natural-log probabilities per text (each token given the tokens before it).
    ``units``: one count per text to normalize by (default: its number of tokens).
    """
    if len(logprobs) == 0:
        raise ValueError("perplexity: expected at least one text's log-probabilities; got none")
    units = [len(lp) for lp in logprobs] if units is None else list(units)
    _pairs(logprobs, units, "perplexity (texts and units)")
    if any(len(lp) == 0 for lp in logprobs) or any(u <= 0 for u in units):
        raise ValueError("perplexity: expected every text to have at least one token and a positive unit count")
    if any(v > 1e-6 for lp in logprobs for v in lp):
        raise ValueError("perplexity: expected log-probabilities (<= 0); got a positive value")
    totals = [-math.fsum(lp) for lp in logprobs]
    each = [math.exp(t / u) for t, u in zip(totals, units, strict=True)]
    return {
        "perplexity": math.exp(math.fsum(totals) / sum(units)),
        "mean_perplexity": sum(each) / len(each),
        "perplexities": each,
    }


@torch.no_grad()
def token_logprobs(model, tokenizer, texts, start_token: str | None = None) -> list[list[float]]:
    """Each text's token log-probabilities under a causal LM, one text at a time (no padding to get wrong).

    Every token of the text is predicted: the text is prefixed with ``start_token`` (default the tokenizer's
    beginning- or end-of-sequence token), which is context, not scored.
    """
    if len(texts) == 0:
        raise ValueError("expected at least one text; got none")
    start = start_token or tokenizer.bos_token or tokenizer.eos_token
    start_id = tokenizer.convert_tokens_to_ids(start)
    model.eval()
    out = []
    for text in texts:
        ids = tokenizer(text, add_special_tokens=False)["input_ids"]
        if not ids:
            raise ValueError(f"text {text!r} has no tokens; expected non-empty texts")
        ids = torch.tensor([[start_id, *ids]], device=model.device)
        logits = model(input_ids=ids).logits[0, :-1].float()
        out.append(logits.log_softmax(-1).gather(-1, ids[0, 1:, None]).squeeze(-1).tolist())
    return out


_13A = [
    (re.compile(r"([\{-\~\[-\` -\&\(-\+\:-\@\/])"), r" \1 "),  # punctuation and symbols
    (re.compile(r"([^0-9])([\.,])"), r"\1 \2 "),  # period and comma, unless preceded by a digit
    (re.compile(r"([\.,])([^0-9])"), r" \1 \2"),  # ... unless followed by a digit
    (re.compile(r"([0-9])(-)"), r"\1 \2 "),
]  # a dash after a digit


def tokenize_13a(line: str) -> list[str]:
    """WMT's standard BLEU tokenization (mteval-v13a): split off punctuation, keep case."""
    line = line.replace("<skipped>", "").replace("-\n", "").replace("\n", " ")
    if "&" in line:
        for entity, char in (("&quot;", '"'), ("&amp;", "&"), ("&lt;", "<"), ("&gt;", ">")):
            line = line.replace(entity, char)
    line = f" {line} "
    for pattern, repl in _13A:
        line = pattern.sub(repl, line)
    return line.split()


def _counts(tokens, max_order: int) -> Counter:
    return Counter(tuple(tokens[i : i + n]) for n in range(1, max_order + 1) for i in range(len(tokens) - n + 1))


def bleu(predictions, references, max_order: int = 4) -> dict:
    """Corpus BLEU in [0, 100]. ``references``: one string per prediction, or a list of strings (several
    references) per prediction. Returns ``bleu``, the n-gram ``precisions`` and the ``brevity_penalty``."""
    _pairs(predictions, references, "bleu")
    refs = [[r] if isinstance(r, str) else list(r) for r in references]
    if any(not r for r in refs):
        raise ValueError("bleu: expected at least one reference per prediction")
    correct, total, sys_len, ref_len = [0] * max_order, [0] * max_order, 0, 0
    for pred, options in zip(predictions, refs, strict=True):
        hyp = tokenize_13a(pred)
        ref_tokens = [tokenize_13a(r) for r in options]
        # closest reference length (the shorter one on a tie); n-gram counts clipped by the most in any reference
        ref_len += min((abs(len(r) - len(hyp)), len(r)) for r in ref_tokens)[1]
        sys_len += len(hyp)
        most = Counter()
        for r in ref_tokens:
            most |= _counts(r, max_order)
        for gram, count in _counts(hyp, max_order).items():
            correct[len(gram) - 1] += min(count, most[gram])
            total[len(gram) - 1] += count
    bp = 1.0 if sys_len >= ref_len else (math.exp(1 - ref_len / sys_len) if sys_len else 0.0)
    precisions, smooth = [0.0] * max_order, 1.0
    if any(correct):
        for n in range(max_order):
            if total[n] == 0:
                break
            if correct[n] == 0:  # "exp" smoothing: 1 / (2^k * total) for the k-th order with no match
                smooth *= 2
                precisions[n] = 100.0 / (smooth * total[n])
            else:
                precisions[n] = 100.0 * correct[n] / total[n]
    score = bp * math.exp(sum(math.log(p) for p in precisions) / max_order) if all(precisions) else 0.0
    return {"bleu": score, "precisions": precisions, "brevity_penalty": bp, "sys_len": sys_len, "ref_len": ref_len}


def rouge_tokens(text: str) -> list[str]:
    """rouge_score's tokenization: lower case, anything but letters and digits becomes a space."""
    return re.sub(r"[^a-z0-9]+", " ", text.lower()).split()


def _f(overlap: int, n_pred: int, n_ref: int) -> float:
    precision, recall = overlap / max(n_pred, 1), overlap / max(n_ref, 1)
    return 2 * precision * recall / (precision + recall) if precision + recall > 0 else 0.0


def _lcs(a: list, b: list) -> int:
    row = [0] * (len(b) + 1)
    for x in a:
        prev = 0  # row[j - 1] of the previous row
        for j, y in enumerate(b, start=1):
            prev, row[j] = row[j], prev + 1 if x == y else max(row[j], row[j - 1])
    return row[-1]


def rouge(predictions, references) -> dict[str, float]:
    """Mean ROUGE-1, ROUGE-2 and ROUGE-L F-measures over (prediction, reference) pairs, in [0, 1]."""
    _pairs(predictions, references, "rouge")
    scores = {"rouge1": [], "rouge2": [], "rougeL": []}
    for pred, ref in zip(predictions, references, strict=True):
        p, r = rouge_tokens(pred), rouge_tokens(ref)
        for n in (1, 2):
            pg = Counter(zip(*[p[i:] for i in range(n)], strict=False))  # the n-grams: zip stops at the shortest shift
            rg = Counter(zip(*[r[i:] for i in range(n)], strict=False))
            scores[f"rouge{n}"].append(_f(sum((pg & rg).values()), sum(pg.values()), sum(rg.values())))
        scores["rougeL"].append(_f(_lcs(r, p), len(p), len(r)) if p and r else 0.0)
    return {name: sum(values) / len(values) for name, values in scores.items()}
