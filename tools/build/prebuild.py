"""Build, once, what several notebooks share (shared.cache), so that no notebook pays for it in the test suite and
two notebooks never wait on each other's build. ``make test`` runs it first; learners never need to (a notebook
builds what it needs on first use).

    python -m tools.build.prebuild      # for the profile COURSE_PROFILE selects
"""

from __future__ import annotations

import sys
import time


def artifacts() -> dict:
    """What to build for this profile: name -> a function that builds it (or finds it cached) and returns a path."""
    from shared import deploy, finetuned, models
    from shared.agents import traces
    from shared.runtime import profile

    tiny = profile().name == "tiny"
    return {
        **(
            {
                "tiny GPT-2 (tokenizer trained on the corpus)": models.tiny_gpt2_path,
                "SmolLM2-135M-Instruct (GGUF -> safetensors)": models.smollm_path,
                "tiny CLIP (tokenizer trained on the shape captions)": models.tiny_clip_path,
            }
            if tiny
            else {}
        ),
        "fine-tuned sentiment classifier (notebook 10's recipe)": finetuned.sentiment_checkpoint,
        "the fine-tuned classifier exported to ONNX (notebook 20, bench/onnx_inference.py)": deploy.exported_classifier,
        "causal LM trained on the course corpus (notebook 04's recipe)": finetuned.corpus_lm_path,
        "corpus sentences embedded with the encoder (notebook 23's retriever)": traces.corpus_index_path,
        "causal LM trained on tool-use traces (notebook 23)": traces.trace_lm_path,
        "torch.compile's one-time set-up on this machine (notebook 17)": compiler_setup,
    }


def compiler_setup() -> str:
    """torch.compile's first use on a machine probes the CPU's vector instructions and builds a precompiled header
    (10 to 15 s on a CPU, cached on disk), and in a new environment Python first compiles the bytecode of the
    compiler's own modules (about 5 s, cached in the environment). Done here, so that notebook 17's cell times the
    compilation of its own block, as on the learner's second run; with both caches warm it takes about 3 s.
    (Skipping it while the disk cache lasts does not pay: a fresh clone's environment still lacks the bytecode.)"""
    import torch
    from torch._inductor.runtime.cache_dir_utils import cache_dir

    torch.compile(lambda x: torch.nn.functional.gelu(x) + 1)(torch.randn(64))
    return cache_dir()


def main() -> int:
    from shared.runtime import profile, quiet_libraries

    quiet_libraries()
    print(f"prebuilding for the {profile().name} profile")
    for name, build in artifacts().items():
        start = time.perf_counter()
        path = build()
        print(f"  {name}: {time.perf_counter() - start:.1f} s  ({path})", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
