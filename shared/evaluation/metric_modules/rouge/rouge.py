"""ROUGE-1/2/L as an ``evaluate`` module (the formulas, equal to rouge_score's: ``shared.evaluation.metrics.rouge``)."""

import datasets
import evaluate

from shared.evaluation.metrics import rouge

_CITATION = "Lin (2004). ROUGE: a package for automatic evaluation of summaries. ACL workshop."
_DOC = """Args: predictions (list of str), references (list of str).
Returns: rouge1, rouge2, rougeL: F-measures averaged over the pairs, in [0, 1]."""


class Rouge(evaluate.Metric):
    def _info(self):
        return evaluate.MetricInfo(
            description="ROUGE-1, ROUGE-2 and ROUGE-L F-measures.",
            citation=_CITATION,
            inputs_description=_DOC,
            features=datasets.Features(
                {"predictions": datasets.Value("string"), "references": datasets.Value("string")}
            ),
        )

    def _compute(self, predictions, references):
        return rouge(predictions, references)
