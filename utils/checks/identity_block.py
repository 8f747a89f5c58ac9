"""Checks of notebook 02: the identity block of ResNet-50.

``check_identity_block(identity_block)`` inspects the block the student wrote
(layer order, names, filters, kernel sizes, strides, padding, BatchNorm axis,
where the Add is, what the shortcut is) and compares its outputs with the
references, with known weights and with the seeded Glorot initializer, in
inference and in training mode. ``hidden=True`` runs other sizes and names.
"""
from __future__ import annotations

from .. import references
from ._blocks import Case, check_block, reference_outputs
from .core import passed

ASSIGNMENT = "02_identity_block"
EXERCISE = "identity_block"

# The classic demo: np.random.seed(0); X = np.random.randn(3, 4, 4, 6); f=2, filters [2, 4, 6], stage 1, block 'a'.
DEMO = Case("demo", shape=(3, 4, 4, 6), f=2, filters=(2, 4, 6), stage=1, block="a", seed=0)
HIDDEN = [
    Case("f3_stage3c", shape=(2, 5, 5, 7), f=3, filters=(3, 5, 7), stage=3, block="c", seed=1),
    Case("wide_stage4e", shape=(2, 3, 3, 5), f=3, filters=(4, 2, 5), stage=4, block="e", seed=2),
]


def build_references(ns: dict) -> dict:
    block = ns[EXERCISE]
    return {"cases": {case.name: reference_outputs(block, case) for case in [DEMO] + HIDDEN}}


def check_identity_block(identity_block, hidden: bool = False) -> None:
    """Visible: the demo case. Hidden: other filters, kernel sizes, stages and blocks."""
    cases = HIDDEN if hidden else [DEMO]
    check_block(identity_block, EXERCISE, cases, convolutional=False,
                references=references.load(ASSIGNMENT)["cases"])
    passed(EXERCISE + (" (hidden cases)" if hidden else ""))
