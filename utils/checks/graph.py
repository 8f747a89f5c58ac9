"""The one reader of Keras graphs the structural probes share (blocks, ResNet-50, ResNet-34).

Two views of a student's model:

* tensors: a symbolic tensor's producing operation and its parents, walked
  back from an output (:func:`walk_back`, :func:`ancestors`) - for a block
  built by a function on ``keras.Input``;
* layers: a built model's layers in order, nested models and layers opened up
  (:func:`flat_layers`, :func:`inner_layers`), and who feeds whom
  (:func:`layer_graph`).

:func:`kind` gives an operation the name the messages use, so that
``Activation('relu')``, ``ReLU()`` and ``keras.ops.relu`` all read "ReLU".
"""
from __future__ import annotations

from dataclasses import dataclass


# --------------------------------------------------------------------------- tensors


def history(tensor):
    return getattr(tensor, "_keras_history", None)


def is_tensor(value) -> bool:
    """A symbolic Keras tensor (it knows the operation that made it)."""
    return history(value) is not None and hasattr(value, "shape")


def producer(tensor):
    return history(tensor).operation


def parents(tensor) -> list:
    h = history(tensor)
    return list(h.operation._inbound_nodes[h.node_index].input_tensors)


def is_input(tensor) -> bool:
    return type(producer(tensor)).__name__ == "InputLayer"


def kind(op) -> str:
    """'Conv2D', 'BatchNormalization', 'ReLU', 'Add', or a description of anything else."""
    name = type(op).__name__
    if name in ("Conv2D", "BatchNormalization", "Add", "InputLayer"):
        return name
    if name == "Relu":  # keras.ops.relu
        return "ReLU"
    if name == "Activation":
        activation = activation_name(op)
        return "ReLU" if activation == "relu" else f"Activation({activation!r})"
    if name == "ReLU":
        config = op.get_config()
        plain = config.get("max_value") is None and not config.get("negative_slope") and not config.get("threshold")
        return "ReLU" if plain else "ReLU (with max_value/negative_slope/threshold)"
    return name


def call_arguments(tensor) -> tuple[tuple, dict]:
    """(positional, keyword) arguments of the call that made ``tensor`` (e.g. a ``training=`` flag)."""
    h = history(tensor)
    arguments = h.operation._inbound_nodes[h.node_index].arguments
    return tuple(arguments.args), dict(arguments.kwargs)


def ancestors(tensor) -> set:
    """Ids of the operations that ``tensor`` depends on (its own included)."""
    seen, stack = set(), [tensor]
    while stack:
        t = stack.pop()
        op = producer(t)
        if id(op) in seen:
            continue
        seen.add(id(op))
        stack.extend(parents(t))
    return seen


@dataclass
class Step:
    """One operation of a path: its output tensor and the operation."""

    tensor: object
    op: object

    @property
    def kind(self) -> str:
        return kind(self.op)

    @property
    def name(self) -> str:
        return getattr(self.op, "name", "?")

    def label(self) -> str:
        return f"{self.kind} '{self.name}'" if self.kind in ("Conv2D", "BatchNormalization") else self.kind


def walk_back(tensor) -> tuple[list[Step], object]:
    """Follow single-input operations back from ``tensor``.

    Returns (steps in forward order, where it stopped): ``"input"`` (a model
    input), the tensor made by a multi-input operation (e.g. an Add), or ``"other"``.
    """
    steps = []
    while True:
        if is_input(tensor):
            return steps[::-1], "input"
        inputs = parents(tensor)
        if len(inputs) != 1:
            return steps[::-1], tensor if inputs else "other"
        steps.append(Step(tensor, producer(tensor)))
        tensor = inputs[0]


def tensors_in_frames(error: BaseException, function) -> list:
    """Keras tensors held by ``function``'s local variables when ``error`` was raised in it."""
    code = getattr(function, "__code__", None)
    filename = code.co_filename if code else None
    found, tb = [], error.__traceback__
    while tb is not None:
        frame = tb.tb_frame
        if code is not None and (frame.f_code is code or frame.f_code.co_filename == filename):
            for value in list(frame.f_locals.values()):
                values = value if isinstance(value, (list, tuple)) else [value]
                found.extend(v for v in values if is_tensor(v))
        tb = tb.tb_next
    return found


# --------------------------------------------------------------------------- layers


def layer_graph(model) -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    """(layer name -> names of the layers feeding it, layer name -> names of the layers it feeds)."""
    preds = {}
    for layer in model.layers:
        nodes = getattr(layer, "_inbound_nodes", [])
        names = []
        if nodes:
            for tensor in nodes[0].input_tensors:
                h = history(tensor)
                if h is not None:
                    names.append(h.operation.name)
        preds[layer.name] = names
    succs: dict[str, list[str]] = {name: [] for name in preds}
    for name, sources in preds.items():
        for source in sources:
            succs.setdefault(source, []).append(name)
    return preds, succs


def inner_layers(layer) -> list:
    """Every layer inside ``layer`` (attributes, lists, Sequential models...), in creation order."""
    # Keras 3 has no public walk over a subclassed layer's sublayers (``.layers`` exists only on models);
    # this is the one it uses itself for ``summary()`` and weight tracking.
    return list(layer._flatten_layers(include_self=False, recursive=True))


def flat_layers(model) -> list:
    """The model's layers in order, nested models opened up, InputLayer left out."""
    import keras

    found = []
    for layer in model.layers:
        if isinstance(layer, keras.Model):
            found += flat_layers(layer)
        elif type(layer).__name__ != "InputLayer":
            found.append(layer)
    return found


def pair(value) -> tuple:
    """``3`` and ``(3, 3)`` both as ``(3, 3)``."""
    return tuple(value) if isinstance(value, (list, tuple)) else (value, value)


def activation_name(layer) -> str | None:
    """'relu' for ``Activation('relu')``, ``ReLU()`` and ``Activation(keras.activations.relu)``; else its name."""
    from keras import layers

    if isinstance(layer, layers.ReLU):
        return "relu"
    if isinstance(layer, layers.Activation) or hasattr(layer, "activation"):
        try:
            import keras

            return keras.activations.serialize(keras.activations.get(layer.activation))
        except Exception:
            return str(getattr(layer, "activation", None))
    return None
