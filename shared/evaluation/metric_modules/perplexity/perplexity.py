"""Perplexity from token log-probabilities as an ``evaluate`` module (``shared.evaluation.metrics.perplexity``).

Unlike the Hub's ``perplexity`` module, this one does not load a model: it takes what any model gives, each
text's token log-probabilities (``shared.evaluation.metrics.token_logprobs``), so models with different tokenizers can
be
compared per word (``units``)."""

import datasets
import evaluate

from shared.evaluation.metrics import perplexity

_DOC = """Args: predictions (list of lists of float): each text's token log-probabilities (natural log);
units (list of int, optional): what to normalize each text by (default: its number of tokens).
Returns: perplexity (over all texts), mean_perplexity, perplexities (one per text)."""


class Perplexity(evaluate.Metric):
    def _info(self):
        return evaluate.MetricInfo(
            description="Perplexity from token log-probabilities.",
            citation="",
            inputs_description=_DOC,
            features=datasets.Features({"predictions": datasets.Sequence(datasets.Value("float64"))}),
        )

    def _compute(self, predictions, units=None):
        return perplexity(predictions, units=units)
