import os

os.environ.setdefault("NPSNN_EDU_FAST", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

import pytest  # noqa: E402


@pytest.fixture
def one_torch_thread():
    """torch on one thread for the test (small networks are fastest so, and results do not depend on threads)."""
    import torch

    old = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(old)
