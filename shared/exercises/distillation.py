"""Checked exercises of lesson 14 (knowledge distillation): Hinton's soft term, and the loss mixed with labels."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from shared.exercises.core import Exercise, Mistake, namespaces


def soft_loss(student_logits, teacher_logits, T):
    """T² · KL(softmax(teacher / T) || softmax(student / T)), averaged over the batch."""
    p_teacher = (teacher_logits / T).softmax(dim=-1)
    log_p_student = (student_logits / T).log_softmax(dim=-1)
    kl = (p_teacher * (p_teacher.log() - log_p_student)).sum(dim=-1)
    return T * T * kl.mean()


def _logits(seed, rows=6, classes=3):
    g = torch.Generator().manual_seed(seed)
    return 2.0 * torch.randn(rows, classes, generator=g, dtype=torch.float64)


def _soft_cases():
    return [(_logits(0), _logits(1), 4.0), (_logits(2, 5, 2), _logits(3, 5, 2), 2.0), (_logits(4), _logits(5), 1.0)]


def _reversed(student_logits, teacher_logits, T):
    p_student = (student_logits / T).softmax(dim=-1)
    log_p_teacher = (teacher_logits / T).log_softmax(dim=-1)
    return T * T * (p_student * (p_student.log() - log_p_teacher)).sum(dim=-1).mean()


def _no_t_squared(student_logits, teacher_logits, T):
    p_teacher = (teacher_logits / T).softmax(dim=-1)
    log_p_student = (student_logits / T).log_softmax(dim=-1)
    return (p_teacher * (p_teacher.log() - log_p_student)).sum(dim=-1).mean()


def _student_at_one(student_logits, teacher_logits, T):
    p_teacher = (teacher_logits / T).softmax(dim=-1)
    log_p_student = student_logits.log_softmax(dim=-1)
    return T * T * (p_teacher * (p_teacher.log() - log_p_student)).sum(dim=-1).mean()


def hinton_loss(student_logits, teacher_logits, labels, T, alpha):
    """alpha · T² · KL(teacher_T || student_T) + (1 - alpha) · CE(student_logits, labels), the CE at T = 1."""
    soft = soft_loss(student_logits, teacher_logits, T)
    return alpha * soft + (1 - alpha) * F.cross_entropy(student_logits, labels)


def _labels(seed, rows=6, classes=3):
    return torch.randint(classes, (rows,), generator=torch.Generator().manual_seed(seed))


def _mixed_cases():
    return [
        (_logits(6), _logits(7), _labels(8), 4.0, 0.7),
        (_logits(9, 5, 2), _logits(10, 5, 2), _labels(11, 5, 2), 2.0, 0.5),
        (_logits(12), _logits(13), _labels(14), 3.0, 0.2),
    ]


def _alpha_swapped(student_logits, teacher_logits, labels, T, alpha):
    soft = soft_loss(student_logits, teacher_logits, T)
    return (1 - alpha) * soft + alpha * F.cross_entropy(student_logits, labels)


def _ce_at_t(student_logits, teacher_logits, labels, T, alpha):
    soft = soft_loss(student_logits, teacher_logits, T)
    return alpha * soft + (1 - alpha) * F.cross_entropy(student_logits / T, labels)


def _t_squared_on_both(student_logits, teacher_logits, labels, T, alpha):
    soft = soft_loss(student_logits, teacher_logits, T)
    return T * T * (alpha * soft / (T * T) + (1 - alpha) * F.cross_entropy(student_logits, labels))


EXERCISES = [
    Exercise(
        key="q1",
        title="Hinton's soft term",
        reference=soft_loss,
        cases=_soft_cases,
        verified="the loss equals T² · KL(softmax(teacher/T) || softmax(student/T)), averaged over the batch, on 3 "
        "random float64 batches at T = 4, 2 and 1",
        hints=[
            "Soften both with the same temperature: p_teacher = softmax(teacher_logits / T), and the student's "
            "log-probabilities log_softmax(student_logits / T).",
            "KL(p || q) = sum p · (log p - log q) over the classes, with p the teacher's (the target). Average "
            "over the rows, then multiply by T * T.",
        ],
        mistakes=[
            Mistake(
                "reversed",
                _reversed,
                "the KL divergence runs the wrong way: KL(student || teacher). The teacher's distribution is the "
                "target, the p in sum p · (log p - log q): weight the log-ratio by the teacher's probabilities. "
                "(F.kl_div(input, target) takes the student's log-probabilities first and the teacher's second.)",
            ),
            Mistake(
                "no_t_squared",
                _no_t_squared,
                "the T² factor is missing. The soft term's gradients shrink like 1/T²; without T² a higher "
                "temperature also means a smaller step, and T changes how fast the student learns, not only what.",
            ),
            Mistake(
                "student_at_one",
                _student_at_one,
                "the student's distribution is taken at T = 1 while the teacher's is softened: the student is "
                "pulled towards a flattened target with its own sharp logits. Divide both by the same T.",
            ),
        ],
    ),
    Exercise(
        key="q2",
        title="the loss with labels",
        reference=hinton_loss,
        cases=_mixed_cases,
        verified="alpha · T² · KL + (1 - alpha) · cross-entropy at T = 1 on 3 random float64 batches with labels",
        hints=[
            "Reuse the soft term of q1 (T² · KL at temperature T) and add the ordinary cross-entropy of the "
            "student's logits with the labels: F.cross_entropy(student_logits, labels).",
            "alpha weights the soft (teacher) term, 1 - alpha the hard (label) term. The cross-entropy uses the "
            "student's plain logits, at T = 1: the labels are not softened, and it needs no T².",
        ],
        mistakes=[
            Mistake(
                "alpha_swapped",
                _alpha_swapped,
                "the weights are swapped: alpha multiplies the teacher's soft term and 1 - alpha the "
                "cross-entropy with the labels.",
            ),
            Mistake(
                "ce_at_t",
                _ce_at_t,
                "the cross-entropy is computed on student_logits / T. The hard term compares the student's own "
                "prediction, at T = 1, with the label; only the soft term is softened.",
            ),
            Mistake(
                "t_squared_on_both",
                _t_squared_on_both,
                "T² multiplies the cross-entropy too. It belongs to the soft term only, to undo the 1/T² its "
                "gradients lose; the cross-entropy at T = 1 loses nothing.",
            ),
        ],
    ),
]

check, hint, solution = namespaces(EXERCISES)
