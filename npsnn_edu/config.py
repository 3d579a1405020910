"""Run-time configuration: fast mode for CI, and seeded random generators.

Fast mode (environment variable ``NPSNN_EDU_FAST=1``, set by ``make test``) shrinks step counts and
epochs in the notebooks so the whole suite runs in minutes on 2 cores.  Without it a notebook runs its
full, teaching-size version.
"""
from __future__ import annotations

import os
from typing import TypeVar

import numpy as np

T = TypeVar("T")

FAST_ENV_VAR = "NPSNN_EDU_FAST"


def fast_mode() -> bool:
    """True when ``NPSNN_EDU_FAST`` is set to 1/true/yes (case-insensitive)."""
    return os.environ.get(FAST_ENV_VAR, "").strip().lower() in {"1", "true", "yes", "on"}


def pick(full: T, fast: T) -> T:
    """Return ``fast`` in fast mode, ``full`` otherwise (e.g. ``n_steps = pick(20_000, 500)``)."""
    return fast if fast_mode() else full


def rng(seed: "int | np.random.Generator | None" = 0) -> np.random.Generator:
    """A NumPy Generator from a seed (``None`` gives fresh entropy; a Generator is passed through)."""
    if isinstance(seed, np.random.Generator):
        return seed
    return np.random.default_rng(seed)
