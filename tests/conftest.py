"""Suite-wide settings: nothing may download; modest threads on 2-core machines."""

import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("STREAMLIT_BROWSER_GATHER_USAGE_STATS", "false")

import pytest  # noqa: E402
import torch  # noqa: E402

torch.set_num_threads(2)


@pytest.fixture
def small_vocab():
    from tvnet.data.tokenize import Vocab

    return Vocab.build(["the red circle on the left", "a small green star", "blue square", "the big triangle"])
