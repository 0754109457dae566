"""Models trained once with a notebook's recipe and cached, for the notebooks that need a trained model rather
than a lesson in training one.

* The week-3 sentiment classifier (notebook 10's recipe), for inference, distillation's teacher, calibration, the
  fairness audit, deployment. ``sentiment_recipe()`` is the one place notebook 10's numbers live;
  ``sentiment_checkpoint()`` trains with them the first time (about 30 s on a laptop CPU in the tiny profile, a
  minute or two on a Colab GPU in the full one) and returns the best checkpoint's path afterwards.
* Notebook 10's own best checkpoint, kept where notebook 11 looks for it first (``keep_for_inference``,
  ``lesson_checkpoint``): a learner who ran notebook 10 continues with the model they trained; notebook 11 falls back
  to the cached classifier when there is none (not run yet, another profile, or a file still being written).
* The corpus language model: the ``causal_lm`` role (tiny GPT-2 / distilgpt2) trained on the course corpus with
  notebook 04's recipe, run longer. It writes course-like text: the SFT policy of RLHF (notebook 22) and a
  language model to measure (perplexity). ``load_corpus_lm()`` gives ``(model, tokenizer)``; the first call trains
  it (about 40 s on a laptop CPU in the tiny profile).
"""

from __future__ import annotations

import inspect
import json
import os
import random
import shutil
from pathlib import Path

import torch

from shared.cache import cached, recipe_key
from shared.runtime import profile, rehearsal, seed

SENTIMENT_RECIPE = {
    "tiny": dict(max_steps=45, val_every=15, max_length=64, batch_size=16, lr=1e-4, warmup_ratio=0.1),
    "full": dict(max_steps=300, val_every=100, max_length=256, batch_size=16, lr=3e-5, warmup_ratio=0.1),
}
SIZES = ("max_steps", "val_every", "max_length")  # what the rehearsal takes from the tiny recipe
CORPUS_LM_RECIPE = {
    "tiny": dict(max_steps=600, block_size=64, batch_size=16, lr=3e-3),
    "full": dict(max_steps=300, block_size=128, batch_size=16, lr=5e-5),
}


def sentiment_recipe() -> dict:
    """Notebook 10's fine-tuning recipe for this profile (the rehearsal: full settings with tiny sizes)."""
    if profile().name == "tiny":
        return dict(SENTIMENT_RECIPE["tiny"])
    recipe = dict(SENTIMENT_RECIPE["full"])
    if rehearsal():
        recipe.update({k: SENTIMENT_RECIPE["tiny"][k] for k in SIZES})
    return recipe


def _data_identity() -> list:
    from shared.data import IMDB_ID, imdb_sizes, sentiment_files

    if profile().name == "full":
        return [IMDB_ID, imdb_sizes()]
    return [Path(path).read_bytes() for path in sentiment_files().values()]


def artifact_key(weights, recipe: dict, *made_from) -> str:
    """The cache key of a model trained here: the profile, the rehearsal flag, the starting ``weights``, the
    ``recipe``, the seed and the library versions, then what else it is ``made_from`` (its code, its data)."""
    import pytorch_lightning
    import transformers

    return recipe_key(
        profile().name,
        rehearsal(),
        weights,
        recipe,
        seed(),
        transformers.__version__,
        pytorch_lightning.__version__,
        *made_from,
    )


def load_lm(folder: Path):
    """``(model, tokenizer)`` of a cached causal LM folder (eval mode); the tokenizer pads with end-of-text."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(folder)
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    model = AutoModelForCausalLM.from_pretrained(folder, use_safetensors=True).eval()
    model.generation_config.pad_token_id = tokenizer.pad_token_id
    return model, tokenizer


def sentiment_checkpoint() -> Path:
    """The best checkpoint (by validation accuracy) of notebook 10's recipe, trained once and cached."""
    from shared.models import HUB_IDS, MINILM_SHA256

    recipe = sentiment_recipe()
    weights = HUB_IDS["classifier"] if profile().name == "full" else MINILM_SHA256  # not a path: clones differ
    from shared.lightning_modules import SentimentClassifier

    code = inspect.getsource(SentimentClassifier) + inspect.getsource(_fine_tune)  # changed code: a new recipe
    key = artifact_key(weights, recipe, code, *_data_identity())
    return (
        cached("sentiment-classifier", key, lambda folder: _fine_tune(folder, recipe), what="the fine-tuned classifier")
        / "best.ckpt"
    )


def load_sentiment_classifier():
    """``(module, tokenizer)``: the cached fine-tuned ``SentimentClassifier`` (in eval mode) and its tokenizer."""
    from shared.lightning_modules import SentimentClassifier
    from shared.models import load_tokenizer

    module = SentimentClassifier.load_from_checkpoint(sentiment_checkpoint(), weights_only=True)
    return module.eval(), load_tokenizer("classifier")


def lesson_checkpoint_path() -> Path:
    """Where notebook 10 keeps its best checkpoint for notebook 11: ``sentiment-classifier/<profile>/best.ckpt``
    in the runs folder (``COURSE_RUNS_DIR``, default ``runs/`` next to the notebook, where ``make_trainer`` logs)."""
    name = profile().name + ("-rehearsal" if rehearsal() else "")
    return Path(os.environ.get("COURSE_RUNS_DIR", "runs")) / "sentiment-classifier" / name / "best.ckpt"


def keep_for_inference(checkpoint) -> Path:
    """Copy ``checkpoint`` to ``lesson_checkpoint_path()`` and return that path. The copy is written next to the
    target and renamed onto it in one step, so a notebook that reads the file meanwhile gets the old one or the new
    one, never half of one."""
    checkpoint, target = Path(checkpoint), lesson_checkpoint_path()
    if not checkpoint.is_file():
        raise ValueError(f"checkpoint={str(checkpoint)!r}; expected the path of a checkpoint file")
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{target.name}.{os.getpid()}.partial")
    shutil.copyfile(checkpoint, partial)
    os.replace(partial, target)
    return target


def lesson_checkpoint() -> tuple[Path, str | None]:
    """``(path, None)`` for notebook 10's kept checkpoint when it is there and fits this profile's classifier;
    otherwise ``(sentiment_checkpoint(), why)``: the cached classifier and the reason, in a few words."""
    from transformers import AutoConfig

    from shared.models import source

    path = lesson_checkpoint_path()
    if not path.is_file():
        return sentiment_checkpoint(), "notebook 10 has not kept one for this profile yet"
    try:
        saved = torch.load(path, map_location="cpu", weights_only=True, mmap=True)
        head = saved["state_dict"]["model.classifier.weight"]
        width = AutoConfig.from_pretrained(source("classifier")).hidden_size
        if saved["hyper_parameters"].get("source") != "classifier" or head.shape[1] != width:
            return sentiment_checkpoint(), "the file there holds another model than this profile's classifier"
    except Exception as err:  # any unreadable file (missing keys, a truncated zip): say why, use the cached one
        return sentiment_checkpoint(), f"the file there could not be read ({type(err).__name__})"
    return path, None


def _fine_tune(folder: Path, recipe: dict) -> None:
    import pytorch_lightning as pl
    from pytorch_lightning.callbacks import ModelCheckpoint

    from shared.data import SentimentDataModule
    from shared.lightning_modules import SentimentClassifier
    from shared.models import HUB_IDS, load_tokenizer
    from shared.trainer import make_trainer

    start = HUB_IDS["classifier"] if profile().name == "full" else "all-MiniLM-L6-v2"  # recipe.json's record
    states = random.getstate(), torch.get_rng_state()  # the notebook's own random state is left as it was
    try:
        pl.seed_everything(seed(), workers=True, verbose=False)
        data = SentimentDataModule(
            load_tokenizer("classifier"), batch_size=recipe["batch_size"], max_length=recipe["max_length"]
        )
        # the role, not this machine's folder: the cached checkpoint rebuilds its model in any clone or venv
        model = SentimentClassifier("classifier", lr=recipe["lr"], warmup_ratio=recipe["warmup_ratio"])
        best = ModelCheckpoint(
            dirpath=folder, filename="best", monitor="val_acc", mode="max", save_top_k=1, enable_version_counter=False
        )
        # one device: in a notebook on several GPUs a single forked worker; in a script, this process
        trainer = make_trainer(
            single_device=True,
            max_steps=recipe["max_steps"],
            check_val_every_n_epoch=None,
            val_check_interval=recipe["val_every"],
            callbacks=[best],
            logger=False,
            enable_progress_bar=False,
        )
        trainer.fit(model, data)
        (folder / "recipe.json").write_text(
            json.dumps({**recipe, "best_val_acc": float(best.best_model_score), "model": start}, indent=1)
        )
    finally:
        random.setstate(states[0])
        torch.set_rng_state(states[1])


def corpus_lm_recipe() -> dict:
    """Notebook 04's recipe for the causal LM, run longer (the rehearsal: full settings with tiny sizes)."""
    recipe = dict(CORPUS_LM_RECIPE[profile().name])
    if profile().name == "full" and rehearsal():
        recipe.update({k: CORPUS_LM_RECIPE["tiny"][k] for k in ("max_steps", "block_size")})
    return recipe


def corpus_lm_path() -> Path:
    """A folder (``from_pretrained``-able: model, tokenizer, ``recipe.json`` with the validation loss) holding the
    ``causal_lm`` role trained on the course corpus; trained once per recipe and cached."""
    from shared.data import corpus_path
    from shared.models import HUB_IDS, tiny_gpt2_path

    recipe = corpus_lm_recipe()
    weights = HUB_IDS["causal_lm"] if profile().name == "full" else tiny_gpt2_path().name  # the folder's recipe hash
    key = artifact_key(weights, recipe, corpus_path().read_bytes())
    return cached("corpus-lm", key, lambda folder: _train_corpus_lm(folder, recipe), what="the corpus LM")


def load_corpus_lm():
    """``(model, tokenizer)``: the cached corpus language model (eval mode); the tokenizer pads with end-of-text."""
    return load_lm(corpus_lm_path())


def _train_corpus_lm(folder: Path, recipe: dict) -> None:
    import pytorch_lightning as pl

    from shared.data import CorpusDataModule
    from shared.lightning_modules import CausalLMModule
    from shared.models import load_causal_lm
    from shared.trainer import make_trainer

    states = random.getstate(), torch.get_rng_state()
    try:
        pl.seed_everything(seed(), workers=True, verbose=False)
        model, tokenizer = load_causal_lm()
        data = CorpusDataModule(tokenizer, block_size=recipe["block_size"], batch_size=recipe["batch_size"])
        module = CausalLMModule(model, tokenizer, lr=recipe["lr"])
        quiet = dict(logger=False, enable_checkpointing=False, enable_progress_bar=False)
        trainer = make_trainer(single_device=True, max_steps=recipe["max_steps"], limit_val_batches=0, **quiet)
        trainer.fit(module, data)
        val_loss = make_trainer(single_device=True, **quiet).validate(module, data, verbose=False)[0]["val_loss"]
        module.model.save_pretrained(folder)
        tokenizer.save_pretrained(folder)
        (folder / "recipe.json").write_text(json.dumps({**recipe, "val_loss": val_loss}, indent=1))
    finally:
        random.setstate(states[0])
        torch.set_rng_state(states[1])
