"""The full-profile rehearsal (make test-full): every Hub id the course uses has a stand-in, the stand-ins load
through the notebooks' own calls, and nothing tries to reach the network while they do."""

import json
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from shared import data, models
from tools.fixtures import stand_in_hub

ROOT = Path(__file__).resolve().parent.parent
LOCAL_BUILDERS = {"json", "text", "csv", "parquet", "arrow", "imagefolder"}  # load_dataset of local files
ID_CALLS = re.compile(r"""(?:from_pretrained|load_dataset)\(\s*["']([^"']+)["']""")


def literal_ids() -> set[str]:
    """Hub ids written as string literals in from_pretrained(...)/load_dataset(...) calls in shared/ and notebooks."""
    sources = [p.read_text() for p in (ROOT / "shared").glob("*.py")]
    for nb in ROOT.glob("week*/*.ipynb"):
        cells = json.loads(nb.read_text())["cells"]
        sources += ["".join(c["source"]) for c in cells if c["cell_type"] == "code"]
    return {m for text in sources for m in ID_CALLS.findall(text) if m not in LOCAL_BUILDERS}


def test_every_hub_id_the_course_uses_has_a_stand_in():
    used = set(models.HUB_IDS.values()) | set(data.HUB_DATASETS.values()) | literal_ids()
    covered = set(stand_in_hub.MODELS) | set(stand_in_hub.DATASETS)
    assert used - covered == set(), f"no stand-in in tools/fixtures/stand_in_hub.py for {sorted(used - covered)}"
    assert covered - used == set(), f"stand-ins for ids the course no longer uses: {sorted(covered - used)}"


def test_unknown_ids_are_refused(tmp_path):
    with pytest.raises(ValueError, match="no stand-in for \\['gpt-5'\\]; expected ids among"):
        stand_in_hub.build(tmp_path, only=["gpt-5"])


PROBE = textwrap.dedent("""
    import socket
    attempts = []
    real_connect = socket.socket.connect

    def refuse(self, address):
        attempts.append(address)
        raise OSError("network blocked by the test")

    socket.socket.connect = refuse
    socket.create_connection = lambda address, *a, **k: refuse(None, address)

    from shared import data, models
    encoder, _ = models.load_encoder()
    classifier, _ = models.load_classifier()
    lm, lm_tokenizer = models.load_causal_lm()
    chat, chat_tokenizer = models.load_chat_lm()
    clip, clip_tokenizer = models.load_clip()
    prompt = chat_tokenizer.apply_chat_template([{"role": "user", "content": "Hi"}], add_generation_prompt=True,
                                                tokenize=False)
    assert prompt.endswith("<|im_start|>assistant\\n"), prompt
    sentiment = data.load_sentiment()
    names = [type(x).__name__ for x in (encoder, classifier, lm, chat, clip, lm_tokenizer)]
    print("LOADED", *names, {k: len(v) for k, v in sentiment.items()}, sentiment["train"].features["label"].names)
    print("ATTEMPTS", attempts)
""")


def test_stand_ins_load_offline_with_the_network_blocked(tmp_path):
    home = tmp_path / "hf"
    assert set(stand_in_hub.build(home)) == set(stand_in_hub.MODELS) | set(stand_in_hub.DATASETS)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HF_", "TRANSFORMERS_", "COURSE_"))}
    env.update(
        HF_HOME=str(home),
        HF_HUB_OFFLINE="1",
        HF_DATASETS_OFFLINE="1",
        TRANSFORMERS_OFFLINE="1",
        HF_ENDPOINT="http://127.0.0.1:9",
        COURSE_PROFILE="full",
        COURSE_REHEARSAL="1",
        COURSE_CACHE=str(tmp_path / "course"),
    )
    out = subprocess.run([sys.executable, "-c", PROBE], env=env, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    assert (
        "LOADED DistilBertModel BertForSequenceClassification GPT2LMHeadModel LlamaForCausalLM CLIPModel "
        "GPT2Tokenizer "
        "{'train': 2000, 'validation': 400, 'test': 400} ['neg', 'pos']"
    ) in out.stdout, out.stdout
    assert "ATTEMPTS []" in out.stdout, "something tried to reach the network: " + out.stdout
