"""Corpus BLEU as an ``evaluate`` module (the formulas, equal to sacrebleu's: ``shared.evaluation.metrics.bleu``)."""

import datasets
import evaluate

from shared.evaluation.metrics import bleu

_CITATION = """Papineni, Roukos, Ward and Zhu (2002). BLEU: a method for automatic evaluation of machine
translation. ACL. Post (2018). A call for clarity in reporting BLEU scores. WMT."""
_DOC = """Args: predictions (list of str), references (list of lists of str: the references of each prediction).
Returns: bleu (0-100), precisions (1- to 4-gram, in %), brevity_penalty, sys_len, ref_len."""


class Bleu(evaluate.Metric):
    def _info(self):
        return evaluate.MetricInfo(
            description="Corpus BLEU with 13a tokenization and exp smoothing.",
            citation=_CITATION,
            inputs_description=_DOC,
            features=datasets.Features(
                {"predictions": datasets.Value("string"), "references": datasets.Sequence(datasets.Value("string"))}
            ),
        )

    def _compute(self, predictions, references, max_order=4):
        return bleu(predictions, references, max_order=max_order)
