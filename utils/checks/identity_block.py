"""Checks of notebook 02: the identity block of ResNet-50.

``check_identity_block(identity_block)`` calls the block on a symbolic input,
reads the graph back (layer order, names, filters, kernel sizes, strides,
padding, BatchNorm axis and settings, initializers, where the Add is, what the
shortcut is: the input itself), then compares its outputs with the references,
with known weights and with the seeded Glorot initializer, in inference and in
training mode (:mod:`._blocks` does both, for this notebook and the next).

Cases: visible, the notebook's demo (f=2, filters [2, 4, 6], stage 1, block
'a'); hidden, other sizes, kernel sizes, filters, stages and blocks. An answer
that hard-codes the demo's names ('res1a_branch...') or its f=2 passes the
visible check only: that is ignoring arguments, not a kind of mistake the
visible check misses.

Accepted, since they behave the same: any spelling of the ReLU
(``Activation('relu')``, ``layers.ReLU()``, ``keras.ops.relu``...) and of the
Add (``Add()``, ``layers.add``, ``+``, ``keras.ops.add``), ``axis=3`` or
``axis=-1``, ``'same'`` padding on the 1x1 convolutions, ints or tuples,
positional arguments, helpers and loops (the full list in :mod:`._blocks`).
Rejected, with a message saying why: names not built from ``stage`` and
``block`` (notebook 04 looks the layers up by name), anything that changes
the outputs (e.g. a layer on the shortcut, a ReLU after the third BatchNorm,
``training=`` fixed on a BatchNorm), ``Lambda`` layers (not inspectable).
"""
from __future__ import annotations

from . import engine
from ._blocks import block_exercise

CHECKS = engine.Assignment("02_identity_block", [block_exercise(
    "identity_block", convolutional=False,
    # The classic demo: np.random.seed(0); X = np.random.randn(3, 4, 4, 6); f=2, filters [2, 4, 6], stage 1, block 'a'.
    visible={"demo": dict(shape=(3, 4, 4, 6), f=2, filters=(2, 4, 6), stage=1, block="a", seed=0)},
    hidden=engine.hidden_cases("02_identity_block", "identity_block"))])

check_identity_block = CHECKS.checker("identity_block")
build_references = CHECKS.build_references
