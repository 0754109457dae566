"""Keep tests from leaking process-wide state into each other (and into notebook kernels started later by
the same pytest-xdist worker): the cached profile, the Hugging Face offline switches, the CUDA info cache."""

import os
import sys

os.environ.setdefault("COURSE_HEADLESS", "1")  # the test harness says so itself: no progress bars in tests

import datasets  # noqa: F401  (imported first so their offline constants are always restored)
import huggingface_hub  # noqa: F401
import pytest

from shared import runtime

SWITCHES = ("HF_HUB_OFFLINE", "HF_DATASETS_OFFLINE", "TRANSFORMERS_OFFLINE", "COURSE_PROFILE")


@pytest.fixture(autouse=True)
def isolate_process_state():
    env = {name: os.environ.get(name) for name in SWITCHES}
    constants = [
        (sys.modules["huggingface_hub"].constants, "HF_HUB_OFFLINE"),
        (sys.modules["datasets"].config, "HF_HUB_OFFLINE"),
        (sys.modules["datasets"].config, "HF_DATASETS_OFFLINE"),
    ]
    saved = [(obj, name, getattr(obj, name)) for obj, name in constants]
    yield
    for name, value in env.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value
    for obj, name, value in saved:
        setattr(obj, name, value)
    runtime.profile.cache_clear()
