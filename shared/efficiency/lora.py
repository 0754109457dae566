"""Parameter-efficient fine-tuning with LoRA (``peft``): the course's sentiment classifier with every pretrained
weight frozen, low-rank adapters on the attention projections, and a new classification head (notebook 17).

LoRA (Hu et al., 2021) replaces a frozen weight ``W`` (d_out x d_in) by ``W + (alpha / r) * B @ A`` with ``A``
(r x d_in) and ``B`` (d_out x r), ``B`` starting at zero, so training starts from the pretrained model exactly and
learns ``r * (d_in + d_out)`` numbers per adapted matrix instead of ``d_in * d_out``. After training, ``B @ A``
can be added into ``W`` once (peft's ``merge_and_unload``): the model is then a plain ``transformers`` model
again, as fast as before, with nothing of ``peft`` left.
"""

from __future__ import annotations

import warnings

import torch

from shared.lightning_modules import SentimentClassifier


class LoraSentimentClassifier(SentimentClassifier):
    """``SentimentClassifier`` whose Hugging Face model is wrapped by ``peft.get_peft_model``.

    Trainable: the adapters on ``target_modules`` (BERT's ``query`` and ``value`` projections by default, as in
    the LoRA paper) and the new classification head (peft's ``modules_to_save`` for sequence classification).
    The optimizer, schedule, metrics and steps are ``SentimentClassifier``'s; its ``configure_optimizers`` only
    hands trainable parameters to AdamW. Every argument is a saved hyperparameter, so
    ``LoraSentimentClassifier.load_from_checkpoint(path)`` rebuilds the adapters and fills them in.
    """

    def __init__(
        self,
        source: str,
        labels: tuple = ("neg", "pos"),
        r: int = 8,
        alpha: float = 16,
        dropout: float = 0.1,
        target_modules: tuple = ("query", "value"),
        lr: float = 5e-3,
        weight_decay: float = 0.01,
        warmup_ratio: float = 0.1,
    ):
        if not isinstance(r, int) or r < 1 or not alpha > 0 or not 0 <= dropout < 1:
            raise ValueError(
                f"r={r!r}, alpha={alpha!r}, dropout={dropout!r}; expected an integer rank r >= 1, "
                "alpha > 0 and 0 <= dropout < 1"
            )
        if isinstance(target_modules, str) or not target_modules:
            raise ValueError(
                f"target_modules={target_modules!r}; expected a non-empty list of module names such "
                "as ('query', 'value')"
            )
        super().__init__(
            source, labels=labels, pretrained=True, lr=lr, weight_decay=weight_decay, warmup_ratio=warmup_ratio
        )
        from peft import LoraConfig, TaskType, get_peft_model

        config = LoraConfig(
            task_type=TaskType.SEQ_CLS, r=r, lora_alpha=alpha, lora_dropout=dropout, target_modules=list(target_modules)
        )
        with warnings.catch_warnings():  # peft asks transformers' deprecated `is_gradient_checkpointing`
            warnings.filterwarnings("ignore", message=".*is_gradient_checkpointing.*", category=FutureWarning)
            self.model = get_peft_model(self.model, config)


def trainable_share(module: torch.nn.Module) -> tuple[int, int]:
    """``(trainable, total)`` parameter counts of a module, each parameter counted once."""
    params = {id(p): p for p in module.parameters()}.values()
    return sum(p.numel() for p in params if p.requires_grad), sum(p.numel() for p in params)
