"""The top of every notebook: ``run = start(models=[...], data=[...])`` decides the profile, seeds everything, quiets
the noise and prints the run card, so a reader of any executed notebook knows exactly what ran where."""

from __future__ import annotations

import importlib.metadata
import json
import platform
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import pytorch_lightning as pl
import torch

from shared import data as course_data
from shared import models as course_models
from shared.runtime import gpu_info, headless, profile, quiet_libraries, rehearsal, seed, trainer_kwargs

RELAXED = "REHEARSAL: relaxed a learned-result assert"  # counted by tools/build/run_course.py (make test-full)


class Config(dict):
    """A lesson's settings for this run, read as attributes: ``run.config.max_steps``."""

    def __getattr__(self, name: str):
        try:
            return self[name]
        except KeyError:
            raise AttributeError(
                f"no setting {name!r}; this lesson's settings are: {', '.join(self) or 'none'}"
            ) from None


def choose(config: dict, profile: str, rehearsal: bool = False) -> Config:
    """``{name: (tiny, full)}`` -> the values for ``profile``. The rehearsal runs the full profile's code with the
    tiny profile's values (stand-in checkpoints are tiny models)."""
    chosen = Config()
    for name, value in config.items():
        if not (isinstance(value, (tuple, list)) and len(value) == 2):
            raise ValueError(f"config {name}={value!r}; expected a (tiny, full) pair")
        chosen[name] = value[0] if profile == "tiny" or rehearsal else value[1]
    return chosen


@dataclass(frozen=True)
class Run:
    """What ``start()`` decided; notebooks read it instead of re-deciding."""

    profile: str
    reason: str
    seed: int
    hardware: dict = field(default_factory=dict)
    rehearsal: bool = False  # the full profile's code path with stand-in checkpoints (make test-full)
    config: Config = field(default_factory=Config)
    full_config: dict = field(default_factory=dict)  # every setting's (tiny, full) pair, for the run card

    @property
    def device(self) -> torch.device:
        """Where direct model calls run (a forward pass, ``generate``, a timing): the accelerator the run card names.
        With several GPUs the notebook's own process stays on the CPU, since ``ddp_notebook`` can only fork workers
        from a process that has not touched CUDA; training and ``trainer.predict`` use every GPU there."""
        accelerator, devices = self.hardware.get("accelerator"), self.hardware.get("devices")
        if accelerator in ("gpu", "cuda") and devices == 1 and torch.cuda.is_available():
            return torch.device("cuda", 0)
        if accelerator == "mps" and torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")

    def place(self, model):
        """``model`` on ``run.device``, in evaluation mode, for direct calls; returns it. (Lightning moves a module
        back to the CPU when a ``fit`` or ``predict`` ends, so place it again after training.)"""
        return model.to(self.device).eval()

    @property
    def tiny(self) -> bool:
        return self.profile == "tiny"


def versions() -> dict:
    import transformers

    return {
        "python": platform.python_version(),
        "torch": torch.__version__,
        "lightning": pl.__version__,
        "transformers": transformers.__version__,
    }


def run_card(run: Run, models=(), data=()) -> str:
    hw = run.hardware
    lines = [
        ("profile", f"{run.profile}  ({run.reason})"),
        *(
            [
                (
                    "rehearsal",
                    "stand-in checkpoints (random weights) under the real Hub ids, offline; tiny sizes; "
                    "learned-result asserts relaxed",
                )
            ]
            if run.rehearsal
            else []
        ),
        ("seed", str(run.seed)),
        (
            "hardware",
            f"accelerator={hw['accelerator']} devices={hw['devices']} strategy={hw['strategy']} "
            f"precision={hw['precision']}",
        ),
    ]
    if gpu_info():
        name, capability = gpu_info()
        lines.append(
            ("gpu", f"{name} x{torch.cuda.device_count()} (compute capability {capability[0]}.{capability[1]})")
        )
    lines += [("model", course_models.describe(role)) for role in models]
    lines += [("data", course_data.describe(name)) for name in data]
    if run.config:
        values = "  ".join(f"{k}={v}" for k, v in run.config.items())
        other = "tiny" if run.profile == "full" and not run.rehearsal else "full"
        others = "  ".join(f"{k}={v[0 if other == 'tiny' else 1]}" for k, v in run.full_config.items())
        lines.append(("settings", f"{values}   ({other} profile: {others})"))
    lines.append(("versions", "  ".join(f"{k} {v}" for k, v in versions().items())))
    width = max(len(k) for k, _ in lines)
    rule = "-" * 72
    return "\n".join([rule, "RUN CARD", *[f"{k:<{width}}  {v}" for k, v in lines], rule])


def start(models=(), data=(), config=None) -> Run:
    """Decide the profile, seed everything, quiet the noise, print the run card. Call once at the top.

    ``config``: the lesson's settings that depend on the profile, ``{name: (tiny value, full value)}`` (from
    ``course.toml``); the notebook reads the ones for this run as ``run.config.name``, and the run card lists both."""
    chosen = profile()
    quiet_libraries(tips=chosen.name == "tiny", progress_bars=headless())
    if rehearsal() and chosen.name != "full":
        raise ValueError("COURSE_REHEARSAL=1 rehearses the full profile; expected COURSE_PROFILE=full with it")
    config = dict(config or {})
    run = Run(
        chosen.name,
        chosen.reason,
        seed(),
        trainer_kwargs(),
        rehearsal=rehearsal(),
        config=choose(config, chosen.name, rehearsal()),
        full_config=config,
    )
    pl.seed_everything(run.seed, workers=True, verbose=False)
    print(run_card(run, models=models, data=data))
    return run


def repository() -> Path:
    """The root of the course's repository, for what the package leaves out (``scripts/``).

    A checkout (``make setup`` installs the package from it, editable) is used as it is. Where only the package was
    installed from git (Colab's setup cell), the same repository and revision is cloned once, shallow, into the
    temporary folder."""
    root = Path(__file__).resolve().parent.parent
    if (root / "scripts").is_dir():
        return root
    dist = importlib.metadata.distribution("transformers-lightning-course")
    origin = json.loads(dist.read_text("direct_url.json") or "{}")
    vcs = origin.get("vcs_info", {})
    if vcs.get("vcs") != "git":
        raise RuntimeError(
            f"no scripts/ next to {root} and the package was not installed from git ({origin}); "
            "expected a checkout of the course: git clone the repository and run make setup"
        )
    target = Path(tempfile.gettempdir()) / f"course-{vcs.get('commit_id', 'main')[:12]}"
    if not (target / "scripts").is_dir():
        subprocess.run(["git", "clone", "-q", origin["url"], str(target)], check=True)
        subprocess.run(["git", "-C", str(target), "checkout", "-q", vcs.get("commit_id", "HEAD")], check=True)
    return target
