"""Checks of notebook 03: the convolutional block of ResNet-50.

``check_convolutional_block(convolutional_block)`` inspects the block (main
path as in the identity block but with stride s on the first 1x1 conv, and a
shortcut Conv2D(F3, 1x1, stride s) -> BatchNorm from the block input) and
compares its outputs with the references, with known weights and with the
seeded Glorot initializer, in inference and in training mode.
``hidden=True`` runs s=1, s=3 and the default s.
"""
from __future__ import annotations

from .. import references
from ._blocks import Case, check_block, reference_outputs
from .core import passed

ASSIGNMENT = "03_convolutional_block"
EXERCISE = "convolutional_block"

# The classic demo: np.random.seed(0); X = np.random.randn(3, 4, 4, 6); f=2, filters [2, 4, 6], stage 1, block 'a', s=2.
DEMO = Case("demo", shape=(3, 4, 4, 6), f=2, filters=(2, 4, 6), stage=1, block="a", seed=0, s=2)
HIDDEN = [
    Case("s1_stage2b", shape=(2, 4, 4, 3), f=3, filters=(2, 3, 5), stage=2, block="b", seed=1, s=1),
    Case("s3_stage5a", shape=(2, 7, 7, 4), f=2, filters=(3, 4, 8), stage=5, block="a", seed=2, s=3),
    Case("default_s_stage3a", shape=(2, 6, 6, 4), f=3, filters=(4, 3, 6), stage=3, block="a", seed=3),
]


def build_references(ns: dict) -> dict:
    block = ns[EXERCISE]
    return {"cases": {case.name: reference_outputs(block, case) for case in [DEMO] + HIDDEN}}


def check_convolutional_block(convolutional_block, hidden: bool = False) -> None:
    """Visible: the demo case (s=2). Hidden: s=1, s=3, the default s, other sizes and names."""
    cases = HIDDEN if hidden else [DEMO]
    check_block(convolutional_block, EXERCISE, cases, convolutional=True,
                references=references.load(ASSIGNMENT)["cases"])
    passed(EXERCISE + (" (hidden cases)" if hidden else ""))
