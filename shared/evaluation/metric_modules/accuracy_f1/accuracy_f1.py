"""Accuracy and macro-F1 as an ``evaluate`` module (the formulas: ``shared.evaluation.metrics.accuracy_f1``)."""

import datasets
import evaluate

from shared.evaluation.metrics import accuracy_f1

_DOC = """Args: predictions (list of int), references (list of int), num_classes (int, optional).
Returns: accuracy, f1 (macro average over the classes that occur)."""


class AccuracyF1(evaluate.Metric):
    def _info(self):
        return evaluate.MetricInfo(
            description="Accuracy and macro-F1 of class predictions.",
            citation="",
            inputs_description=_DOC,
            features=datasets.Features({"predictions": datasets.Value("int64"), "references": datasets.Value("int64")}),
        )

    def _compute(self, predictions, references, num_classes=None):
        return accuracy_f1(predictions, references, num_classes=num_classes)
