"""Chapters 1 and 2: Newtonian MD and integrator stability, built on the core.

:mod:`~npsnn_edu.md.analysis` (chapter 1: observables of a trajectory: temperature, pressure, g(r), diffusion,
periods) and :mod:`~npsnn_edu.md.stability` (chapter 2: order of accuracy, amplification matrices, stability
limits, energy drift).
"""
