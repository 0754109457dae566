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
