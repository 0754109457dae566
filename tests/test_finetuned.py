"""shared.finetuned: the recipes the cached models are trained with (the training itself runs in tools/prebuild)."""

import pytest

from shared import runtime
from shared.finetuned import CORPUS_LM_RECIPE, corpus_lm_recipe


@pytest.fixture(autouse=True)
def fresh_profile():
    runtime.profile.cache_clear()
    yield
    runtime.profile.cache_clear()


def _use(monkeypatch, name):
    monkeypatch.setenv("COURSE_PROFILE", name)
    runtime.profile.cache_clear()


def test_corpus_lm_recipe_per_profile(monkeypatch):
    monkeypatch.delenv("COURSE_REHEARSAL", raising=False)
    _use(monkeypatch, "tiny")
    assert corpus_lm_recipe() == CORPUS_LM_RECIPE["tiny"]
    _use(monkeypatch, "full")
    assert corpus_lm_recipe() == CORPUS_LM_RECIPE["full"]
    recipe = corpus_lm_recipe()
    recipe["max_steps"] = 1  # a copy: the table is not changed
    assert CORPUS_LM_RECIPE["full"]["max_steps"] == 300


def test_corpus_lm_recipe_rehearsal_takes_the_tiny_sizes(monkeypatch):
    _use(monkeypatch, "full")
    monkeypatch.setenv("COURSE_REHEARSAL", "1")
    recipe = corpus_lm_recipe()
    assert recipe["max_steps"] == CORPUS_LM_RECIPE["tiny"]["max_steps"]
    assert recipe["block_size"] == CORPUS_LM_RECIPE["tiny"]["block_size"]
    assert recipe["lr"] == CORPUS_LM_RECIPE["full"]["lr"]


@pytest.fixture
def runs(monkeypatch, tmp_path):
    """A fresh runs folder, the tiny profile, and a stand-in for the cached classifier (no training in a test)."""
    from shared import finetuned

    monkeypatch.setenv("COURSE_RUNS_DIR", str(tmp_path))
    monkeypatch.delenv("COURSE_REHEARSAL", raising=False)
    _use(monkeypatch, "tiny")
    monkeypatch.setattr(finetuned, "sentiment_checkpoint", lambda: tmp_path / "cached.ckpt")
    return tmp_path


def _checkpoint(path, width):
    import torch

    weights = {"model.classifier.weight": torch.zeros(2, width)}
    torch.save({"state_dict": weights, "hyper_parameters": {"source": "classifier"}}, path)
    return path


def test_notebook_11_uses_notebook_10s_checkpoint_when_it_fits(runs):
    from transformers import AutoConfig

    from shared.finetuned import keep_for_inference, lesson_checkpoint, lesson_checkpoint_path
    from shared.models import source

    assert lesson_checkpoint_path() == runs / "sentiment-classifier" / "tiny" / "best.ckpt"
    path, why = lesson_checkpoint()
    assert path == runs / "cached.ckpt" and "has not kept one" in why
    width = AutoConfig.from_pretrained(source("classifier")).hidden_size
    kept = keep_for_inference(_checkpoint(runs / "best-step=45.ckpt", width))
    assert kept == lesson_checkpoint_path() and lesson_checkpoint() == (kept, None)
    assert [p.name for p in kept.parent.iterdir()] == ["best.ckpt"], "no partial copy is left behind"


def test_a_half_written_or_foreign_checkpoint_falls_back_to_the_cached_one(runs):
    from shared.finetuned import keep_for_inference, lesson_checkpoint, lesson_checkpoint_path

    keep_for_inference(_checkpoint(runs / "other.ckpt", 7))  # another model's head
    path, why = lesson_checkpoint()
    assert path == runs / "cached.ckpt" and "another model" in why
    whole = lesson_checkpoint_path().read_bytes()
    lesson_checkpoint_path().write_bytes(whole[: len(whole) // 2])  # as if read while being written
    path, why = lesson_checkpoint()
    assert path == runs / "cached.ckpt" and "could not be read" in why
    with pytest.raises(ValueError, match="expected the path of a checkpoint file"):
        keep_for_inference(runs / "missing.ckpt")
