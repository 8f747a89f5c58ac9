"""Checks of notebook 03: the convolutional block of ResNet-50.

``check_convolutional_block(convolutional_block)`` reads the block's graph
back (the main path of the identity block with the stride s on its first 1x1
conv, and a shortcut Conv2D(F3, 1x1, stride s) -> BatchNorm from the block
input: names, filters, kernels, strides, padding, BatchNorm settings,
initializers), then compares its outputs with the references, with known
weights and with the seeded Glorot initializer, in inference and in training
mode (:mod:`._blocks` does both).

Cases: visible, the notebook's demo with the default s (so a wrong default
shows) and a stage-2 block with s=1 (so a stride hard-coded to 2, or names
hard-coded to the demo's 'res1a...', show too); hidden (on the instructor's
side), other strides, sizes, kernel sizes, filters, stages and blocks. An
answer that hard-codes the demo's kernel size passes the visible check only.

Accepted and rejected spellings: as in notebook 02 (see :mod:`._blocks`).
Rejected in particular, because it changes the outputs: the stride on the
f x f convolution (ResNet v1.5) instead of the first 1x1 one (v1, the
original model the course builds and notebook 04 assembles).
"""
from __future__ import annotations

from . import engine
from ._blocks import block_exercise

CHECKS = engine.Assignment("03_convolutional_block", [block_exercise(
    "convolutional_block", convolutional=True,
    visible={
        # The classic demo: np.random.seed(0); X = np.random.randn(3, 4, 4, 6); f=2, filters [2, 4, 6], stage 1,
        # block 'a', the default s=2.
        "demo": dict(shape=(3, 4, 4, 6), f=2, filters=(2, 4, 6), stage=1, block="a", seed=0),
        # The first block of ResNet-50's stage 2 keeps the height and width: s=1.
        "s1_stage2a": dict(shape=(2, 5, 5, 3), f=2, filters=(2, 3, 5), stage=2, block="a", seed=4, s=1),
    },
    hidden=engine.hidden_cases("03_convolutional_block", "convolutional_block"))])

check_convolutional_block = CHECKS.checker("convolutional_block")
build_references = CHECKS.build_references
