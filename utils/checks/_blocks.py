"""What notebooks 02 and 03 share: a ResNet block exercise, run and inspected.

:func:`block_exercise` describes the exercise for the engine. Its ``run``
(the same call for a student's answer and for the solution when the
references are built) does two things on every case:

1. the structural inspection (:class:`BlockInspector`): the function is called
   on a symbolic ``keras.Input`` and the graph it builds is read back through
   :mod:`.graph`, from the output to the input:

   * main path Conv2D -> BatchNorm -> ReLU, Conv2D -> BatchNorm -> ReLU,
     Conv2D -> BatchNorm, then the Add with the shortcut, then a ReLU;
   * every layer's name, filters, kernel size, strides, padding, BatchNorm
     axis and settings, kernel initializer;
   * the shortcut: the block input itself (identity block) or Conv2D ->
     BatchNorm on the block input (convolutional block);

   a problem found there is named (layer, setting, what it should be) before
   any number is compared;
2. the outputs, with the course's known-weights initializer (no random numbers
   involved) and with the default seeded Glorot initializer, BatchNorm in
   inference and in training mode: ``{"known_inference", "known_training",
   "glorot_inference", "glorot_training"}``, compared with the references,
   and the names of its layers (``"layer_names"``), which the grader compares
   too: a name is the one thing the inspection checks that no output shows.

The block is traced with unknown height and width first, so a stride or
padding mistake cannot crash the Add and is named as such. When the student's
code crashes half-way, the tensors already built are read from the function's
local variables (:func:`.graph.tensors_in_frames`): the layers built so far
are inspected, then the error itself is reported by the engine
(:func:`.engine.crash`), with the shape hint only for an Add of two tensors of
different shapes.

Accepted (they behave the same): ``Activation('relu')``, ``layers.ReLU()``,
``Activation(keras.activations.relu)`` or ``Activation(tf.nn.relu)``,
``keras.ops.relu``; ``Add()([X, X_shortcut])``, ``layers.add``,
``X + X_shortcut`` or ``keras.ops.add``, in either order; ``axis=3`` or
``axis=-1``; ints or tuples for kernel sizes and strides, positional
arguments, ``tf.keras.layers``; ``'same'`` padding on a 1x1 convolution (with
a 1x1 kernel it pads nothing, whatever the stride); ``use_bias=False`` (the
bias starts at 0); one ``initializer(seed=0)`` instance shared by all the
convolutions (a seeded initializer gives the same values at every call);
helper functions and loops; the shortcut built before or after the main path.

Rejected, and the message says why: layer names not built from ``stage`` and
``block`` (notebook 04 and the weights files look layers up by these names);
anything that changes the outputs (other filters, kernels, strides, padding of
the f x f convolution, an activation inside a Conv2D, a ReLU where there is
none, other BatchNorm settings, ``training=`` fixed when calling a
BatchNormalization, an initializer other than ``initializer(seed=0)``);
``Lambda`` layers (the check cannot see what they compute: use a layer or
``keras.ops``).
"""
from __future__ import annotations

import inspect
from dataclasses import dataclass, field
from typing import Any, Mapping

import numpy as np

from ..models import layer_names
from . import engine, graph
from .core import CheckFailed, difference, error_text, fail, short
from .known_weights import KnownWeights

MAIN_PATH = ("2a", "2b", "2c")
INITIALIZERS = (("known", KnownWeights), ("glorot", None))   # None: the student's default argument
MODES = ("inference", "training")
OUTPUTS = tuple(f"{init_name}_{mode}" for init_name, _ in INITIALIZERS for mode in MODES)
LAYERS = "layer_names"
LABELS = {"known": "known weights", "glorot": "the default glorot_uniform(seed=0)"}
ATOL = RTOL = 1e-4
NUMBERS_HINT = ("the layers look right but the numbers differ: check that the shortcut is added unchanged, that "
                "nothing else (a constant, a bias_initializer, an extra operation) is applied, and that every Conv2D uses "
                "kernel_initializer=initializer(seed=0).")
SHORTCUT_FROM_MAIN = ("the shortcut starts from the main path instead of the block input: save X_shortcut = X "
                      "before the first convolution.")
NO_ADD = "the shortcut is never added: X = Add()([X, X_shortcut]) after the third BatchNorm, then the final ReLU."


# --------------------------------------------------------------------------- cases


def data(case: engine.Case) -> np.ndarray:
    """The input batch: ``np.random.seed(seed); np.random.randn(*shape)`` (global state untouched)."""
    return np.random.RandomState(case["seed"]).randn(*case["shape"]).astype(np.float32)


def describer(exercise: str):
    def describe(case: engine.Case) -> str:
        s = "" if case.get("s") is None else f", s={case['s']}"
        return (f"{exercise}(X of shape {tuple(case['shape'])}, f={case['f']}, filters={list(case['filters'])}, "
                f"stage={case['stage']}, block={case['block']!r}{s})")
    return describe


def _block_kwargs(case: engine.Case, initializer) -> dict:
    kwargs = {} if case.get("s") is None else {"s": case["s"]}
    return kwargs if initializer is None else {**kwargs, "initializer": initializer}


# --------------------------------------------------------------------------- tracing the student's block


@dataclass
class Trace:
    """What a call of the student's block built."""

    inputs: object
    output: object = None                        # the returned tensor (None when the call crashed)
    error: Exception | None = None
    tensors: list = field(default_factory=list)  # tensors in the student's locals at the crash

    @property
    def end(self):
        """The returned tensor, or the tensor with the most history among the student's locals."""
        if self.output is not None:
            return self.output
        candidates = [t for t in self.tensors if not graph.is_input(t)]
        return max(candidates, key=lambda t: len(graph.ancestors(t))) if candidates else None

    def depth(self) -> int:
        return len(graph.ancestors(self.end)) if self.end is not None else 0


def trace(fn, where: str, case: engine.Case, initializer, channels_known: bool) -> Trace:
    """Call ``fn`` on a symbolic input; a crash is kept in the trace for the inspection."""
    import keras

    shape = tuple(case["shape"][1:]) if channels_known else (None, None, case["shape"][-1])
    inputs = keras.Input(shape=shape)
    try:
        output = fn(inputs, case["f"], list(case["filters"]), case["stage"], case["block"],
                    **_block_kwargs(case, initializer))
    except CheckFailed:
        raise
    except Exception as error:  # analysed by the inspector, then reported through engine.crash
        return Trace(inputs, None, error, graph.tensors_in_frames(error, fn))
    if not graph.is_tensor(output):
        fail(f"{where} returned {short(output)}",
             expected="the output tensor of the block (a KerasTensor when called on keras.Input)",
             found=type(output).__name__, hint="end the function with `return X` (the tensor after the final ReLU).")
    return Trace(inputs, output)


def best_trace(fn, where: str, case: engine.Case, initializer) -> Trace:
    """Trace with unknown height and width first (so shape mistakes cannot crash the Add), else fixed."""
    first = trace(fn, where, case, initializer, channels_known=False)
    if first.error is None:
        return first
    second = trace(fn, where, case, initializer, channels_known=True)
    if second.error is None or second.depth() > first.depth():
        return second
    return first


# --------------------------------------------------------------------------- the inspection


class BlockInspector:
    """Structural checks of one call of a student's block."""

    def __init__(self, fn, exercise: str, case: engine.Case, convolutional: bool):
        self.fn, self.exercise, self.case = fn, exercise, case
        self.convolutional = convolutional
        self.where = describer(exercise)(case)
        self.stride = (2 if case.get("s") is None else case["s"]) if convolutional else 1
        F1, F2, F3 = case["filters"]
        s, f = self.stride, case["f"]
        # branch -> (filters, kernel, stride, padding, meaning of the filters)
        self.spec = {"2a": (F1, 1, s, "valid", f"F1 = {F1}"), "2b": (F2, f, 1, "same", f"F2 = {F2}"),
                     "2c": (F3, 1, 1, "valid", f"F3 = {F3}"), "1": (F3, 1, s, "valid", f"F3 = {F3}")}
        self.current_init = KnownWeights

    # -- helpers -------------------------------------------------------------
    def names(self, branch):
        return layer_names(self.case["stage"], self.case["block"], branch)

    def fail(self, what, expected=None, found=None, hint=None):
        fail(f"{self.where}: {what}", expected=expected, found=found, hint=hint)

    # -- the main path ---------------------------------------------------------
    def expected_sequence(self) -> list[tuple[str, str | None]]:
        sequence = []
        for branch in MAIN_PATH:
            conv, bn = self.names(branch)
            sequence += [("Conv2D", conv), ("BatchNormalization", bn)]
            if branch != "2c":
                sequence.append(("ReLU", bn))
        return sequence + [("Add", None), ("ReLU", "Add")]

    def check_sequence(self, steps: list[graph.Step], crashed: bool, has_add: bool) -> None:
        """Compare the kinds of the operations along the main path with the expected ones."""
        expected = self.expected_sequence()
        found = [s.kind for s in steps]
        bn3 = self.names("2c")[1]
        for i, (want, name) in enumerate(expected):
            got = found[i] if i < len(found) else None
            if got == want:
                continue
            previous = f"after {steps[i - 1].label()}" if i > 0 and i - 1 < len(steps) else "at the start"
            if got is None:
                if crashed:
                    return  # the crash itself is reported later, once the layers built so far are checked
                if want == "Add":
                    self.fail("no skip connection", expected=f"Add of the main path ({bn3}) and the shortcut",
                              found="the main path alone", hint=NO_ADD)
                if want == "ReLU" and name == "Add":
                    self.fail("the end of the block", expected="ReLU after the Add",
                              found="the block ends with the Add",
                              hint="ReLU missing at the end of the block (after the Add): "
                                   "X = Activation('relu')(X) after adding the shortcut.")
                self.fail("the main path is too short", expected=f"{want} {name or ''}".strip(),
                          found=f"nothing {previous}",
                          hint=f"{name} is missing: the main path has three components, "
                               "Conv2D -> BatchNorm (-> ReLU) each.")
            if got == "Lambda":
                wanted = want if want in ("ReLU", "Add") else f"{want} '{name}'"
                self.fail(f"the layer {previous}", expected=wanted, found="a Lambda layer",
                          hint="the check reads the layer types and cannot see inside a Lambda: use the layer "
                               "itself (Activation('relu'), Add()) or keras.ops (keras.ops.relu, keras.ops.add).")
            rest = found[i:]
            if want == "Add" and not has_add and not crashed:
                self.fail("no skip connection", expected=f"Add of the main path ({bn3}) and the shortcut",
                          found=f"{bn3} -> " + " -> ".join(rest), hint=NO_ADD)
            if want == "Add" and got == "ReLU":
                if rest[:2] == ["ReLU", "Add"] and len(rest) == 2:
                    self.fail("where the shortcut is added", expected=f"{bn3} -> Add -> ReLU",
                              found=f"{bn3} -> ReLU -> Add",
                              hint="the shortcut is added after the final ReLU: add X_shortcut to the output of "
                                   f"{bn3}, then apply the ReLU to the sum.")
                self.fail(f"the layer after {bn3}", expected="Add (with the shortcut)", found="ReLU",
                          hint=f"a ReLU follows {bn3}: the third BatchNorm must feed the Add directly "
                               "(the block's last ReLU comes after the Add).")
            if want == "Add":
                self.fail(f"the layer after {steps[i - 1].label()}", expected="Add (with the shortcut)",
                          found=got, hint=f"the third component ends with {bn3}; its output goes straight "
                                          "into the Add with the shortcut.")
            if want == "BatchNormalization":
                conv = steps[i - 1].name if i > 0 else "the convolution"
                if got == "ReLU" and "BatchNormalization" in rest[1:2]:
                    self.fail(f"the order of the layers after {conv}", expected="Conv2D -> BatchNormalization -> ReLU",
                              found="Conv2D -> ReLU -> BatchNormalization",
                              hint=f"the ReLU comes before {name}: normalise first, then apply the ReLU.")
                self.fail(f"the layer after Conv2D '{conv}'", expected=f"BatchNormalization '{name}'", found=got,
                          hint=f"{name} is missing: every Conv2D is followed by "
                               f"BatchNormalization(axis=3, name='{name}').")
            if want == "ReLU" and name == "Add":
                if got.startswith(("Activation", "ReLU ")):
                    self.fail("the activation after the Add", expected="ReLU", found=got,
                              hint=f"the final activation must be a plain ReLU, found {got}.")
                self.fail("the layer after the Add", expected="ReLU", found=got,
                          hint=f"ReLU missing at the end of the block (after the Add); found {got} there.")
            if want == "ReLU":
                if got.startswith(("Activation", "ReLU ")):
                    self.fail(f"the activation after {name}", expected="ReLU", found=got,
                              hint=f"use Activation('relu') (or ReLU()) after {name}.")
                self.fail(f"the layer after BatchNormalization '{name}'", expected="ReLU", found=got,
                          hint=f"ReLU missing after {name}: the first two components end with a ReLU.")
            if want == "Conv2D" and got == "Add":
                self.fail(f"the layer {previous}", expected=f"Conv2D '{name}'", found="Add",
                          hint=f"the shortcut is added too early: {name} and its BatchNorm come before the Add.")
            if want == "Conv2D":
                self.fail(f"the layer {previous}", expected=f"Conv2D '{name}'", found=got,
                          hint=f"{name} is missing or an extra {got} was inserted: the main path is "
                               "three Conv2D -> BatchNorm components with a ReLU after the first two.")
            self.fail(f"the layer {previous}", expected=want, found=got, hint="compare with the figure of the block.")
        if len(found) > len(expected):
            self.fail("the end of the block", expected="the final ReLU is the last layer",
                      found=f"{steps[len(expected)].label()} after the final ReLU",
                      hint="remove the layers after the final ReLU.")
        if not has_add and not crashed:
            self.fail("no skip connection", expected="an Add", found="none", hint=NO_ADD)

    # -- layer settings --------------------------------------------------------
    def check_name(self, step: graph.Step, expected_name: str) -> None:
        if step.name != expected_name:
            stage_block = str(self.case["stage"]) + self.case["block"]
            prefix = "bn" if expected_name.startswith("bn") else "res"
            branch = expected_name.rsplit("_branch", 1)[-1]
            self.fail(f"layer name of the {step.kind}", expected=repr(expected_name), found=repr(step.name),
                      hint=f"layer named {step.name!r}, expected {expected_name!r}: names are built from the "
                           f"arguments, e.g. '{prefix}' + str(stage) + block + '_branch{branch}' (here stage + block "
                           f"= {stage_block!r}); notebook 04 looks the layers up by these names.")

    def check_conv(self, step: graph.Step, branch: str, main: dict, initializer) -> None:
        filters, kernel, stride, padding, meaning = self.spec[branch]
        name = self.names(branch)[0]
        config = step.op.get_config()
        if config["filters"] != filters:
            swapped = (branch in ("2b", "2c") and "2b" in main and "2c" in main
                       and main["2b"].op.get_config()["filters"] == self.spec["2c"][0]
                       and main["2c"].op.get_config()["filters"] == self.spec["2b"][0])
            hint = (f"F2 and F3 swapped: {self.names('2b')[0]} has {self.spec['2c'][0]} filters, expected "
                    f"{self.spec['2b'][0]} (and res..._branch2c has F2): F2 goes to the fxf conv, F3 to the last "
                    "1x1 conv." if swapped else
                    f"{name} has {config['filters']} filters, expected {meaning} (filters = [F1, F2, F3]; "
                    "branch2a uses F1, branch2b F2, branch2c" + (" and the shortcut" if self.convolutional else "")
                    + " F3).")
            self.fail(f"number of filters of {name}", expected=filters, found=config["filters"], hint=hint)
        found_kernel = graph.pair(config["kernel_size"])
        if found_kernel != (kernel, kernel):
            wanted = f"fxf = {self.case['f']}x{self.case['f']}" if branch == "2b" else "1x1"
            self.fail(f"kernel size of {name}", expected=(kernel, kernel), found=found_kernel,
                      hint=f"{name} has a {'x'.join(map(str, found_kernel))} kernel, expected {wanted}.")
        self.check_stride(graph.pair(config["strides"]), branch, name, main)
        # a 1x1 kernel pads nothing with 'same' padding, whatever the stride: both spellings behave the same
        if config["padding"] != padding and kernel != 1:
            self.fail(f"padding of {name}", expected=repr(padding), found=repr(config["padding"]),
                      hint=f"{name} uses padding {config['padding']!r}, expected {padding!r} ('same' keeps the "
                           "height and width so the Add works).")
        if config.get("activation") not in (None, "linear"):
            self.fail(f"activation inside {name}", expected="no activation (linear)",
                      found=repr(config.get("activation")),
                      hint=f"{name} has activation={config.get('activation')!r} built in: the ReLU comes after the "
                           "BatchNorm, so leave the Conv2D linear.")
        if graph.pair(config.get("dilation_rate", 1)) != (1, 1) or config.get("groups", 1) != 1:
            self.fail(f"settings of {name}", expected="dilation_rate=(1, 1), groups=1",
                      found=f"dilation_rate={config.get('dilation_rate')}, groups={config.get('groups')}",
                      hint="keep the default dilation and groups.")
        self.check_initializer(step, name, initializer)

    def check_stride(self, found: tuple, branch: str, name: str, main: dict) -> None:
        stride = self.spec[branch][2]
        if found == (stride, stride):
            return
        s = self.stride
        if found[0] != found[1]:
            hint = (f"{name} has strides={found}: a stride in one direction only; the block divides height and "
                    f"width alike, strides=({stride}, {stride}).")
        elif (self.convolutional and branch == "2a" and "2b" in main and s != 1
                and graph.pair(main["2b"].op.get_config()["strides"]) == (s, s)):
            hint = (f"stride {s} on {self.names('2b')[0]} (the fxf conv); the stride belongs on the first 1x1 conv "
                    f"{name} (strides=(s, s)), as in ResNet-50 v1.")
        elif (self.convolutional and branch in ("1", "2a") and self.case.get("s") is None
              and self.default_s() not in (2, None)):
            hint = (f"s was not passed here and your function's default is s={self.default_s()!r}: the default "
                    "must be s=2 (def convolutional_block(X, f, filters, stage, block, s=2, ...)).")
        elif branch == "1":
            hint = f"shortcut conv has stride {found[0]}, expected s={s}: strides=(s, s) on {name}."
        elif self.convolutional and branch == "2a":
            hint = f"{name} has stride {found[0]}, expected s={s}: strides=(s, s) on the first 1x1 conv."
        elif self.convolutional:
            hint = (f"{name} has stride {found[0]}, expected 1: in the convolutional block only the first 1x1 conv "
                    "of the main path and the shortcut conv use the stride s.")
        else:
            hint = (f"{name} has stride {found[0]}, expected 1: the identity block keeps the height and width, "
                    "every convolution has strides=(1, 1).")
        self.fail(f"strides of {name}", expected=(stride, stride), found=found, hint=hint)

    def default_s(self):
        """The default of the student's ``s`` argument (None when it cannot be read)."""
        try:
            return inspect.signature(self.fn).parameters["s"].default
        except (KeyError, TypeError, ValueError):
            return None

    def check_initializer(self, step: graph.Step, name: str, initializer) -> None:
        init = step.op.kernel_initializer
        seed = init.get_config().get("seed") if hasattr(init, "get_config") else None
        if initializer is KnownWeights and not isinstance(init, KnownWeights):
            self.fail(f"kernel initializer of {name}", expected="initializer(seed=0), the initializer argument",
                      found=type(init).__name__,
                      hint=f"{name} ignores the initializer argument: use kernel_initializer=initializer(seed=0) "
                           "(the checks pass their own initializer through it).")
        if initializer is None and type(init).__name__ != "GlorotUniform":
            self.fail(f"kernel initializer of {name} with the default arguments",
                      expected="GlorotUniform(seed=0)", found=type(init).__name__,
                      hint="the default must be initializer=glorot_uniform, used as "
                           "kernel_initializer=initializer(seed=0).")
        if seed != 0:
            self.fail(f"kernel initializer of {name}", expected="initializer(seed=0)", found=f"seed={seed!r}",
                      hint=f"{name} uses initializer(seed={seed!r}), expected initializer(seed=0).")

    def check_bn(self, step: graph.Step, branch: str) -> None:
        name = self.names(branch)[1]
        config = step.op.get_config()
        axis = config["axis"]
        axis = axis[0] if isinstance(axis, (list, tuple)) and len(axis) == 1 else axis
        if axis not in (3, -1):
            self.fail(f"BatchNormalization axis of {name}", expected=3, found=axis,
                      hint=f"BatchNormalization on axis {axis}, expected axis 3 (channels): "
                           "BatchNormalization(axis=3, ...).")
        for key, default in (("epsilon", 1e-3), ("center", True), ("scale", True)):
            if config.get(key) != default:
                self.fail(f"settings of {name}", expected=f"{key}={default!r}", found=f"{key}={config.get(key)!r}",
                          hint=f"keep the default {key} of BatchNormalization (only axis and name are set).")
        args, kwargs = graph.call_arguments(step.tensor)
        training = kwargs.get("training", args[1] if len(args) > 1 else None)
        if training is not None:
            self.fail(f"how {name} is called", expected="BatchNormalization(...)(X)", found=f"training={training!r}",
                      hint=f"{name} is called with training={training!r}, which fixes its mode: leave training out; "
                           "Keras sets the mode from model(X, training=...) (the checks run both modes).")

    def check_layers(self, steps: list[graph.Step], initializer) -> None:
        """Names and settings along the main path."""
        expected = self.expected_sequence()
        convs = {MAIN_PATH[i]: step for i, step in enumerate(
            [s for s, (want, _) in zip(steps, expected) if want == "Conv2D"])}
        bns = [s for s, (want, _) in zip(steps, expected) if want == "BatchNormalization"]
        for branch, step in convs.items():
            self.check_name(step, self.names(branch)[0])
        for branch, step in zip(MAIN_PATH, bns):
            self.check_name(step, self.names(branch)[1])
        for branch, step in convs.items():
            self.check_conv(step, branch, convs, initializer)
        for branch, step in zip(MAIN_PATH, bns):
            self.check_bn(step, branch)

    # -- the shortcut ------------------------------------------------------------
    def check_shortcut(self, shortcut, main_steps: list[graph.Step], initializer) -> None:
        main_ops = {id(s.op) for s in main_steps}
        ancestors = graph.ancestors(shortcut)
        if ancestors & main_ops:
            self.fail("where the shortcut comes from", expected="the block input X",
                      found=f"the output of {next(s.label() for s in main_steps if id(s.op) in ancestors)}",
                      hint=SHORTCUT_FROM_MAIN)
        steps, stop = graph.walk_back(shortcut)
        if stop != "input":
            self.fail("where the shortcut comes from", expected="the block input X", found="another tensor",
                      hint=SHORTCUT_FROM_MAIN)
        found = [s.kind for s in steps]
        if not self.convolutional:
            if steps:
                self.fail("the shortcut of the identity block", expected="the input X itself, unchanged",
                          found=" -> ".join(s.label() for s in steps),
                          hint="the identity block adds the input as it is: no layer on the shortcut "
                               "(the 1x1 conv shortcut belongs to the convolutional block).")
            return
        conv, bn = self.names("1")
        expected = f"Conv2D '{conv}' -> BatchNormalization '{bn}'"
        if found == ["Conv2D", "BatchNormalization"]:
            self.check_name(steps[0], conv)
            self.check_name(steps[1], bn)
            self.check_conv(steps[0], "1", {}, initializer)
            self.check_bn(steps[1], "1")
            return
        if found == ["Conv2D"]:
            self.fail("the shortcut", expected=expected, found=steps[0].label(),
                      hint=f"shortcut has no BatchNorm ({bn} missing): "
                           f"BatchNormalization(axis=3, name='{bn}') after the shortcut conv.")
        if not found:
            self.fail("the shortcut", expected=expected, found="the input X unchanged",
                      hint=f"the shortcut has no convolution: the convolutional block needs Conv2D(F3, (1, 1), "
                           f"strides=(s, s), name='{conv}') then BatchNormalization on the shortcut.")
        if found[:3] == ["Conv2D", "BatchNormalization", "ReLU"]:
            self.fail("the shortcut", expected=expected, found=" -> ".join(s.label() for s in steps),
                      hint=f"a ReLU follows {bn}: the shortcut has no activation, it goes straight into the Add.")
        self.fail("the shortcut", expected=expected, found=" -> ".join(s.label() for s in steps),
                  hint=f"the shortcut is one 1x1 Conv2D with stride s ({conv}) then BatchNormalization ({bn}).")

    # -- everything ------------------------------------------------------------
    def inspect(self, initializer) -> Trace:
        """Structural checks of a call with ``initializer`` (None: the student's default)."""
        self.current_init = initializer
        t = best_trace(self.fn, self.where, self.case, initializer)
        end = t.end
        if end is None:
            self.crash(t, None)
        tail, stop = graph.walk_back(end)
        add_step, shortcut, main_in = None, None, None
        if stop not in ("input", "other"):
            parents = graph.parents(stop)
            add_step = graph.Step(stop, graph.producer(stop))
            if add_step.kind != "Add" or len(parents) != 2:
                self.fail("the operation that joins the two paths", expected="Add of two tensors",
                          found=f"{add_step.kind} of {len(parents)} tensors",
                          hint="join the main path and the shortcut with Add()([X, X_shortcut]) "
                               "(or X + X_shortcut).")
            main_in, shortcut = sorted(parents, key=lambda p: len(graph.ancestors(p)), reverse=True)
            main, main_stop = graph.walk_back(main_in)
            if main_stop not in ("input", "other"):
                self.fail("the structure of the block", expected="one Add (main path + shortcut)",
                          found="more than one operation with two inputs",
                          hint="the block has exactly one Add, after the third BatchNorm.")
            steps, main_path = main + [add_step] + tail, main
        else:
            steps, main_path = tail, tail
        self.check_sequence(steps, crashed=t.error is not None, has_add=add_step is not None)
        self.check_layers(steps, initializer)
        if shortcut is not None:
            if shortcut is main_in or graph.producer(shortcut) is graph.producer(main_in):
                self.fail("where the shortcut comes from", expected="the block input X",
                          found="the main path (the Add adds a tensor to itself)", hint=SHORTCUT_FROM_MAIN)
            self.check_shortcut(shortcut, main_path, initializer)
        if t.error is not None:
            self.crash(t, steps)
        return t

    def crash(self, t: Trace, steps) -> None:
        """The student's code raised: name what the layers built so far show, then report the error itself."""
        error, steps = t.error, steps or []
        if len(steps) >= 8 and steps[-1].kind == "BatchNormalization":  # main path complete up to the third BN
            built = {id(s.op) for s in steps}
            if not self.convolutional and not any(graph.is_input(x) for x in t.tensors):
                self.fail(f"raised {type(error).__name__} when adding the shortcut", expected="the block input X",
                          found=error_text(error, limit=150), hint=SHORTCUT_FROM_MAIN)
            branches = [x for x in t.tensors if id(graph.producer(x)) not in built and not graph.is_input(x)]
            if self.convolutional and branches:
                shortcut = max(branches, key=lambda x: len(graph.ancestors(x)))
                self.check_shortcut(shortcut, steps, self.current_init)
        last = steps[-1].label() if steps else "the start of the block"
        bn3 = self.names("2c")[1]
        where = (f"the error happened after {last}" if len(steps) >= 8 else
                 f"the Add comes after {last}, before the main path is complete: add the shortcut to the output "
                 f"of {bn3}")
        hint = f"the two tensors added must have the same shape (height, width and channels); {where}."
        shapes = (engine.CrashHint(("incompatible shapes",), hint, ValueError),
                  engine.CrashHint(("Cannot broadcast",), hint, ValueError))
        raise engine.crash(error, self.where, shapes, name=self.exercise)


# --------------------------------------------------------------------------- the exercise


def outputs(answer, exercise: str, case: engine.Case, convolutional: bool) -> dict:
    """The structural inspection, then the outputs with both initializers in both BatchNorm modes."""
    import keras

    inspector = BlockInspector(answer, exercise, case, convolutional)
    x = data(case)
    values = {}
    for init_name, initializer in INITIALIZERS:
        t = inspector.inspect(initializer)
        model = keras.Model(t.inputs, t.output)
        for mode in MODES:
            values[f"{init_name}_{mode}"] = np.asarray(model(x, training=mode == "training"))
    values[LAYERS] = named_layers(model)
    return values


def named_layers(model) -> list[str]:
    """The names of the block's Conv2D and BatchNormalization layers, sorted: what notebook 04 looks up
    (the one thing the inspection rejects that the outputs cannot show, so the grader compares it too)."""
    return sorted(layer.name for layer in graph.flat_layers(model)
                  if graph.kind(layer) in ("Conv2D", "BatchNormalization"))


def comparer(describe):
    def compare(found: Mapping[str, Any], expected: Mapping[str, Any], case: engine.Case) -> None:
        for key in OUTPUTS:  # known weights first: they involve no random numbers
            want = expected[key]
            problem = difference(found[key], want, ATOL, RTOL)
            if problem is None:
                continue
            init_name, mode = key.split("_")
            what, want_words, got = problem
            other = f"{init_name}_{'inference' if mode == 'training' else 'training'}"
            hint = "check the strides and padding of each convolution." if "shape" in what else NUMBERS_HINT
            if difference(found[key], expected[other], ATOL, RTOL) is None:
                hint = (f"BatchNorm is always in {other.split('_')[1]} mode: do not pass training=... when calling "
                        "BatchNormalization; Keras sets the mode from model(X, training=...).")
            raise CheckFailed(f"{describe(case)}: output with {LABELS[init_name]}, BatchNorm in {mode} mode "
                              f"(training={mode == 'training'}): {what}", expected=want_words, found=got, hint=hint)
        found_names, expected_names = list(found.get(LAYERS) or ()), list(expected[LAYERS])
        if found_names != expected_names:
            wrong = sorted(set(found_names) - set(expected_names))
            fail(f"{describe(case)}: the names of its Conv2D and BatchNormalization layers",
                 expected=sorted(set(expected_names) - set(found_names)) or expected_names,
                 found=wrong or found_names,
                 hint="names are built from the arguments, e.g. 'res' + str(stage) + block + '_branch2a'; notebook 04 "
                      "looks the layers up by these names.")
    return compare


def block_exercise(name: str, convolutional: bool, visible: dict, hidden: engine.Hidden) -> engine.Exercise:
    """The exercise ``name`` (a block function) for the engine; ``visible``: case name -> parameters."""
    describe = describer(name)
    return engine.Exercise(
        name=name, cases=engine.Parts(visible=engine.cases(visible), hidden=hidden),
        run=lambda answer, case: outputs(answer, name, case, convolutional),
        describe=describe, hint=NUMBERS_HINT, requires=engine.callable_answer(name), compare=comparer(describe),
        atol=ATOL, rtol=RTOL, implementation=f"course_utils.blocks:{name}")
