"""The gradient estimators of a hard Gumbel-Softmax sample that the NumPy and
torch APIs offer, by name, and the check of their parameters.

- ``"st"``: straight-through Gumbel-Softmax (Jang et al. 2017, section
  2.2); with a backward temperature of its own, decoupled straight-through
  (Shah, Widdowson and Rosenbaum 2024).
- ``"reinmax"``: ReinMax (Liu et al. 2023, Algorithm 2).
- ``"gumbel_rao"``: Gumbel-Rao (Paulus et al. 2021, eq. 8), with ``draws``
  (``m``) conditional draws.
- ``"gapped_st"``: gapped straight-through (Fan et al. 2022, section 4),
  with a margin ``gap`` in logit units.

The formulas are in ``include/gumbel.h`` (``gumbel_decoupled_st_backward_*``,
``gumbel_reinmax_backward_*``, ``gumbel_rao_backward_*``,
``gumbel_gapped_st_backward_*``).
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["ESTIMATORS", "check_estimator"]

ESTIMATORS = ("st", "reinmax", "gumbel_rao", "gapped_st")


def check_estimator(estimator: str, draws: int, gap: float) -> None:
    """ValueError for an unknown estimator name, ``draws`` not an integer
    ``>= 1`` or a ``gap`` that is NaN, infinite or negative (whatever the
    estimator: the defaults are valid)."""
    if not isinstance(estimator, str) or estimator not in ESTIMATORS:
        raise ValueError(f"unknown estimator {estimator!r}: expected one of {', '.join(map(repr, ESTIMATORS))}")
    if isinstance(draws, (bool, np.bool_)) or not isinstance(draws, (int, np.integer)) or draws < 1:
        raise ValueError(f"draws (the number m of conditional draws of 'gumbel_rao') must be an integer >= 1, got {draws!r}")
    if isinstance(gap, bool) or not isinstance(gap, (int, float)) or not (math.isfinite(gap) and gap >= 0):
        raise ValueError(f"gap (the margin of 'gapped_st', in logit units) must be a finite number >= 0, got {gap!r}")
