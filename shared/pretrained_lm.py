"""The course's own trained language model: the ``causal_lm`` role (tiny: a small GPT-2 from random weights; full:
distilgpt2) trained on the course corpus with notebook 04's recipe, once, and cached.

Notebooks that need a trained small LM rather than a lesson in training one use it: notebook 15 compares its
perplexity with the pretrained instruct model's; RLHF starts from it as the supervised policy.

    path = corpus_gpt2()               # a model folder: from_pretrained(path) gives the model and its tokenizer
    model, tokenizer = load_corpus_gpt2()

It trains on the corpus's ``train`` split only (``shared.data.load_corpus``, 10% of the paragraphs held out), so
the ``validation`` paragraphs are text it has never seen. ``recipe.json`` in the folder records the recipe and the
validation loss reached.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

import torch

from shared.cache import cached, recipe_key
from shared.runtime import profile, rehearsal, seed

CORPUS_GPT2_RECIPE = {
    "tiny": dict(max_steps=300, lr=3e-3, block_size=64, batch_size=16),  # notebook 04's numbers
    "full": dict(max_steps=300, lr=5e-5, block_size=64, batch_size=16),
}


def corpus_gpt2_recipe() -> dict:
    """Notebook 04's training recipe for this profile (the rehearsal trains the stand-in the same way)."""
    return dict(CORPUS_GPT2_RECIPE["tiny" if profile().name == "tiny" else "full"])


def corpus_gpt2() -> Path:
    """The folder of the causal LM trained on the course corpus (built the first time, about 30 s on a CPU)."""
    import pytorch_lightning
    import transformers

    from shared.data import corpus_path
    from shared.models import TINY_GPT2, TINY_VOCAB_SIZE, source

    recipe = corpus_gpt2_recipe()
    base = [TINY_GPT2, TINY_VOCAB_SIZE] if profile().name == "tiny" else [source("causal_lm")]
    key = recipe_key(profile().name, rehearsal(), *base, recipe, seed(), corpus_path().read_bytes(),
                     transformers.__version__, pytorch_lightning.__version__)
    return cached("corpus-gpt2", key, lambda folder: _train(folder, recipe))


def load_corpus_gpt2():
    """``(model, tokenizer)`` of the corpus-trained LM, in evaluation mode; the tokenizer pads with end-of-text."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    folder = corpus_gpt2()
    tokenizer = AutoTokenizer.from_pretrained(folder)
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    model = AutoModelForCausalLM.from_pretrained(folder, use_safetensors=True).eval()
    model.generation_config.pad_token_id = tokenizer.pad_token_id
    return model, tokenizer


def _train(folder: Path, recipe: dict) -> None:
    import pytorch_lightning as pl

    from shared.data import CorpusDataModule
    from shared.models import load_causal_lm
    from shared.modules import CausalLMModule
    from shared.trainer import make_trainer

    states = random.getstate(), torch.get_rng_state()  # the caller's random state is left as it was
    try:
        pl.seed_everything(seed(), workers=True, verbose=False)
        model, tokenizer = load_causal_lm()
        data = CorpusDataModule(tokenizer, block_size=recipe["block_size"], batch_size=recipe["batch_size"])
        module = CausalLMModule(model, tokenizer, lr=recipe["lr"])
        trainer = make_trainer(single_device=True, max_steps=recipe["max_steps"], logger=False,
                               enable_checkpointing=False, enable_progress_bar=False, limit_val_batches=0)
        trainer.fit(module, data)
        val_loss = make_trainer(single_device=True, logger=False, enable_progress_bar=False).validate(
            module, data, verbose=False)[0]["val_loss"]
        module.model.save_pretrained(folder)
        tokenizer.save_pretrained(folder)
        (folder / "recipe.json").write_text(json.dumps({**recipe, "val_loss": val_loss, "seed": seed()}, indent=1))
    finally:
        random.setstate(states[0])
        torch.set_rng_state(states[1])
