"""The top of every notebook: ``run = start(models=[...], data=[...])`` decides the profile, seeds everything, quiets
the noise and prints the run card, so a reader of any executed notebook knows exactly what ran where."""

from __future__ import annotations

import platform
from dataclasses import dataclass, field

import pytorch_lightning as pl
import torch

from shared import data as course_data
from shared import models as course_models
from shared.runtime import gpu_info, headless, profile, quiet_libraries, seed, trainer_kwargs


@dataclass(frozen=True)
class Run:
    """What ``start()`` decided; notebooks read it instead of re-deciding."""

    profile: str
    reason: str
    seed: int
    hardware: dict = field(default_factory=dict)

    @property
    def tiny(self) -> bool:
        return self.profile == "tiny"

    def pick(self, *, tiny, full):
        """The value for this profile: ``run.pick(tiny=50, full=500)`` keeps one code path for both."""
        return tiny if self.tiny else full


def versions() -> dict:
    import transformers

    return {"python": platform.python_version(), "torch": torch.__version__, "lightning": pl.__version__,
            "transformers": transformers.__version__}


def run_card(run: Run, models=(), data=()) -> str:
    hw = run.hardware
    lines = [
        ("profile", f"{run.profile}  ({run.reason})"),
        ("seed", str(run.seed)),
        ("hardware", f"accelerator={hw['accelerator']} devices={hw['devices']} strategy={hw['strategy']} "
                     f"precision={hw['precision']}"),
    ]
    if gpu_info():
        name, capability = gpu_info()
        lines.append(("gpu", f"{name} x{torch.cuda.device_count()} (compute capability {capability[0]}."
                             f"{capability[1]})"))
    lines += [("model", course_models.describe(role)) for role in models]
    lines += [("data", course_data.describe(name)) for name in data]
    lines.append(("versions", "  ".join(f"{k} {v}" for k, v in versions().items())))
    width = max(len(k) for k, _ in lines)
    rule = "-" * 72
    return "\n".join([rule, "RUN CARD", *[f"{k:<{width}}  {v}" for k, v in lines], rule])


def start(models=(), data=()) -> Run:
    """Decide the profile, seed everything, quiet the noise, print the run card. Call once at the top."""
    chosen = profile()
    quiet_libraries(tips=chosen.name == "tiny", progress_bars=headless())
    run = Run(chosen.name, chosen.reason, seed(), trainer_kwargs())
    pl.seed_everything(run.seed, workers=True, verbose=False)
    print(run_card(run, models=models, data=data))
    return run
