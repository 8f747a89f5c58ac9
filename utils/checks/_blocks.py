"""Shared inspection of a ResNet block written by a student (notebooks 02 and 03).

The student's function is called on a symbolic ``keras.Input`` and the graph
it builds is read back, layer by layer, from the output to the input:

* the main path must be Conv2D -> BatchNorm -> ReLU, Conv2D -> BatchNorm ->
  ReLU, Conv2D -> BatchNorm, then the Add with the shortcut, then a ReLU;
* every layer has its classic name, filters, kernel size, strides, padding,
  BatchNorm axis and kernel initializer;
* the shortcut is the block input (identity block) or Conv2D -> BatchNorm on
  the block input (convolutional block).

Then the outputs are compared with the references, with the course's
known-weights initializer (no random numbers involved) and with the default
seeded Glorot initializer, with BatchNorm in inference and in training mode.

When the student's code crashes half-way (e.g. the Add receives tensors with
different numbers of channels), the tensors already built are read from the
student's function's local variables, so the message can still name the
layer at fault instead of only repeating Keras' error.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..blocks import KnownWeights, layer_names
from .core import CheckFailed, fail, short

MAIN_PATH = ("2a", "2b", "2c")


# --------------------------------------------------------------------------- cases


@dataclass
class Case:
    """One call of the student's block: the arguments and the input data."""

    name: str
    shape: tuple            # input batch shape, e.g. (3, 4, 4, 6)
    f: int
    filters: tuple
    stage: int
    block: str
    seed: int = 0
    s: int | None = None    # convolutional block only; None: leave the default (2)

    def data(self) -> np.ndarray:
        """The input batch: ``np.random.seed(seed); np.random.randn(*shape)`` (global state untouched)."""
        return np.random.RandomState(self.seed).randn(*self.shape).astype(np.float32)

    @property
    def stride(self) -> int:
        return 2 if self.s is None else self.s

    def kwargs(self) -> dict:
        return {} if self.s is None else {"s": self.s}

    def describe(self, exercise: str) -> str:
        s = "" if self.s is None else f", s={self.s}"
        return (f"{exercise}(X of shape {self.shape}, f={self.f}, filters={list(self.filters)}, "
                f"stage={self.stage}, block={self.block!r}{s})")


def reference_outputs(fn, case: Case) -> dict:
    """The outputs of ``fn`` (the solution) on ``case``: known weights and Glorot, both BatchNorm modes."""
    x = case.data()
    values = {}
    for init_name, init in (("known", KnownWeights), ("glorot", None)):
        model = _model(fn, case, init, channels_known=True)
        for mode in ("inference", "training"):
            values[f"{init_name}_{mode}"] = np.asarray(model(x, training=mode == "training"))
    return values


def _model(fn, case, initializer, channels_known=True):
    import keras

    shape = case.shape[1:] if channels_known else (None, None, case.shape[-1])
    inputs = keras.Input(shape=shape)
    extra = {} if initializer is None else {"initializer": initializer}
    outputs = fn(inputs, case.f, list(case.filters), case.stage, case.block, **case.kwargs(), **extra)
    return keras.Model(inputs, outputs)


# --------------------------------------------------------------------------- reading the graph


def _history(tensor):
    return getattr(tensor, "_keras_history", None)


def _is_tensor(value) -> bool:
    return _history(value) is not None and hasattr(value, "shape")


def _producer(tensor):
    return _history(tensor).operation


def _parents(tensor) -> list:
    history = _history(tensor)
    return list(history.operation._inbound_nodes[history.node_index].input_tensors)


def _is_input(tensor) -> bool:
    return type(_producer(tensor)).__name__ == "InputLayer"


def kind(op) -> str:
    """'Conv2D', 'BatchNormalization', 'ReLU', 'Add', or a description of anything else."""
    name = type(op).__name__
    if name in ("Conv2D", "BatchNormalization", "Add", "InputLayer"):
        return name
    if name == "Relu":  # keras.ops.relu
        return "ReLU"
    if name == "Activation":
        activation = op.get_config().get("activation")
        return "ReLU" if activation == "relu" else f"Activation({activation!r})"
    if name == "ReLU":
        config = op.get_config()
        plain = config.get("max_value") is None and not config.get("negative_slope") and not config.get("threshold")
        return "ReLU" if plain else "ReLU (with max_value/negative_slope/threshold)"
    return name


def _ancestors(tensor) -> set:
    """Ids of the operations that ``tensor`` depends on (itself included)."""
    seen, stack = set(), [tensor]
    while stack:
        t = stack.pop()
        op = _producer(t)
        if id(op) in seen:
            continue
        seen.add(id(op))
        stack.extend(_parents(t))
    return seen


@dataclass
class Step:
    """One operation of a path: its output tensor, the operation, its kind and name."""

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


def _walk_back(tensor):
    """Follow single-input operations back from ``tensor``.

    Returns (steps in forward order, where it stopped): "input" (the block input),
    or the tensor made by a multi-input operation (e.g. an Add), or "other".
    """
    steps = []
    while True:
        if _is_input(tensor):
            return steps[::-1], "input"
        parents = _parents(tensor)
        if len(parents) != 1:
            return steps[::-1], tensor if parents else "other"
        steps.append(Step(tensor, _producer(tensor)))
        tensor = parents[0]


def _student_tensors(error, fn) -> list:
    """Keras tensors held by the student's local variables when ``error`` was raised."""
    code = getattr(fn, "__code__", None)
    filename = code.co_filename if code else None
    found, tb = [], error.__traceback__
    while tb is not None:
        frame = tb.tb_frame
        if code is not None and (frame.f_code is code or frame.f_code.co_filename == filename):
            for value in list(frame.f_locals.values()):
                values = value if isinstance(value, (list, tuple)) else [value]
                found.extend(v for v in values if _is_tensor(v))
        tb = tb.tb_next
    return found


@dataclass
class Trace:
    """What a call of the student's block built."""

    inputs: object
    output: object = None                     # the returned tensor (None when the call crashed)
    error: Exception | None = None
    tensors: list = field(default_factory=list)  # tensors in the student's locals at the crash

    @property
    def end(self):
        """The returned tensor, or the tensor with the most history among the student's locals."""
        if self.output is not None:
            return self.output
        candidates = [t for t in self.tensors if not _is_input(t)]
        return max(candidates, key=lambda t: len(_ancestors(t))) if candidates else None

    def depth(self) -> int:
        end = self.end
        return len(_ancestors(end)) if end is not None else 0


def trace(fn, exercise, case: Case, initializer, channels_known=False) -> Trace:
    """Call ``fn`` on a symbolic input; never raises except for an unwritten answer."""
    import keras

    shape = case.shape[1:] if channels_known else (None, None, case.shape[-1])
    inputs = keras.Input(shape=shape)
    extra = {} if initializer is None else {"initializer": initializer}
    try:
        output = fn(inputs, case.f, list(case.filters), case.stage, case.block, **case.kwargs(), **extra)
    except NotImplementedError:
        fail(f"{exercise} is not written yet",
             hint="replace `raise NotImplementedError()` in the exercise cell with your code, then run that cell again.")
    except CheckFailed:
        raise
    except Exception as error:  # analysed by the caller
        return Trace(inputs, None, error, _student_tensors(error, fn))
    if not _is_tensor(output):
        fail(f"{case.describe(exercise)} returned {short(output)}",
             expected="the output tensor of the block (a KerasTensor when called on keras.Input)",
             found=type(output).__name__,
             hint="end the function with `return X` (the tensor after the final ReLU).")
    return Trace(inputs, output)


def best_trace(fn, exercise, case, initializer) -> Trace:
    """Trace with unknown height and width first (so shape mistakes cannot crash the Add), else fixed."""
    first = trace(fn, exercise, case, initializer, channels_known=False)
    if first.error is None:
        return first
    second = trace(fn, exercise, case, initializer, channels_known=True)
    if second.error is None or second.depth() > first.depth():
        return second
    return first


# --------------------------------------------------------------------------- the inspection


class BlockInspector:
    """Structural and numerical checks of one call of a student's block."""

    def __init__(self, fn, exercise: str, case: Case, convolutional: bool, expected: dict | None):
        self.fn, self.exercise, self.case = fn, exercise, case
        self.convolutional = convolutional
        self.expected = expected
        self.where = case.describe(exercise)
        F1, F2, F3 = case.filters
        s = case.stride if convolutional else 1
        f = case.f
        # branch -> (filters, kernel, stride, padding, meaning of the filters)
        self.spec = {"2a": (F1, 1, s, "valid", f"F1 = {F1}"), "2b": (F2, f, 1, "same", f"F2 = {F2}"),
                     "2c": (F3, 1, 1, "valid", f"F3 = {F3}"), "1": (F3, 1, s, "valid", f"F3 = {F3}")}

    # -- helpers -------------------------------------------------------------
    def names(self, branch):
        return layer_names(self.case.stage, self.case.block, branch)

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

    def check_sequence(self, steps: list[Step], crashed: bool, has_add: bool) -> None:
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
                              found="the main path alone",
                              hint="the shortcut is never added: X = Add()([X, X_shortcut]) after the third "
                                   "BatchNorm, then the final ReLU.")
                if want == "ReLU" and name == "Add":
                    self.fail("the end of the block", expected="ReLU after the Add", found="the block ends with the Add",
                              hint="ReLU missing at the end of the block (after the Add): "
                                   "X = Activation('relu')(X) after adding the shortcut.")
                self.fail("the main path is too short", expected=f"{want} {name or ''}".strip(),
                          found=f"nothing {previous}",
                          hint=f"{name} is missing: the main path has three components, "
                               "Conv2D -> BatchNorm (-> ReLU) each.")
            rest = found[i:]
            if want == "Add" and not has_add and not crashed:
                self.fail("no skip connection", expected=f"Add of the main path ({bn3}) and the shortcut",
                          found=f"{bn3} -> " + " -> ".join(rest),
                          hint="the shortcut is never added: X = Add()([X, X_shortcut]) after the third "
                               "BatchNorm, then the final ReLU.")
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
                if got == "Add":
                    continue
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
            if want == "Conv2D":
                if got in ("Add",):
                    self.fail(f"the layer {previous}", expected=f"Conv2D '{name}'", found="Add",
                              hint=f"the shortcut is added too early: {name} and its BatchNorm come before the Add.")
                self.fail(f"the layer {previous}", expected=f"Conv2D '{name}'", found=got,
                          hint=f"{name} is missing or an extra {got} was inserted: the main path is "
                               "three Conv2D -> BatchNorm components with a ReLU after the first two.")
            self.fail(f"the layer {previous}", expected=want, found=got, hint="compare with the figure of the block.")
        if len(found) > len(expected):
            self.fail("the end of the block", expected="the final ReLU is the last layer",
                      found=f"{steps[len(expected)].label()} after the final ReLU",
                      hint="remove the layers after the final ReLU.")
        if not has_add and not crashed:
            self.fail("no skip connection", expected="an Add", found="none",
                      hint="the shortcut is never added: X = Add()([X, X_shortcut]).")

    # -- layer settings --------------------------------------------------------
    def check_name(self, step: Step, expected_name: str) -> None:
        if step.name != expected_name:
            stage_block = str(self.case.stage) + self.case.block
            prefix = "bn" if expected_name.startswith("bn") else "res"
            branch = expected_name.rsplit("_branch", 1)[-1]
            self.fail(f"layer name of the {step.kind}", expected=repr(expected_name), found=repr(step.name),
                      hint=f"layer named {step.name!r}, expected {expected_name!r}: names are built from the "
                           f"arguments, e.g. '{prefix}' + str(stage) + block + '_branch{branch}' (here stage + block "
                           f"= {stage_block!r}); use name=... on every Conv2D and BatchNormalization.")

    def check_conv(self, step: Step, branch: str, main: dict, initializer) -> None:
        filters, kernel, stride, padding, meaning = self.spec[branch]
        name = self.names(branch)[0]
        config = step.op.get_config()
        f = self.case.f
        if config["filters"] != filters:
            swapped = (branch in ("2b", "2c") and "2b" in main and "2c" in main
                       and main["2b"].op.get_config()["filters"] == self.spec["2c"][0]
                       and main["2c"].op.get_config()["filters"] == self.spec["2b"][0])
            hint = (f"F2 and F3 swapped: {self.names('2b')[0]} has {self.spec['2c'][0]} filters, "
                    f"expected {self.spec['2b'][0]} (and res..._branch2c has F2): F2 goes to the fxf conv, F3 to the last "
                    "1x1 conv" if swapped else
                    f"{name} has {config['filters']} filters, expected {meaning} (filters = [F1, F2, F3]; "
                    "branch2a uses F1, branch2b F2, branch2c" + (" and the shortcut" if self.convolutional else "")
                    + " F3).")
            self.fail(f"number of filters of {name}", expected=filters, found=config["filters"], hint=hint)
        found_kernel = tuple(config["kernel_size"])
        if found_kernel != (kernel, kernel):
            size = "x".join(map(str, found_kernel))
            wanted = f"fxf = {f}x{f}" if branch == "2b" else "1x1"
            self.fail(f"kernel size of {name}", expected=(kernel, kernel), found=found_kernel,
                      hint=f"{name} has a {size} kernel, expected {wanted}.")
        found_stride = tuple(config["strides"])
        if found_stride != (stride, stride):
            s = self.case.stride
            if (self.convolutional and branch == "2a" and "2b" in main
                    and tuple(main["2b"].op.get_config()["strides"]) == (s, s) and s != 1):
                conv_b = self.names("2b")[0]
                self.fail(f"strides of {name}", expected=(stride, stride), found=found_stride,
                          hint=f"stride {s} on {conv_b} (the fxf conv); the stride belongs on the first 1x1 conv "
                               f"{name} (strides=(s, s)), as in ResNet-50 v1.")
            if branch == "1":
                hint = f"shortcut conv has stride {found_stride[0]}, expected s={s}: strides=(s, s) on {name}."
            elif self.convolutional and branch == "2a":
                hint = f"{name} has stride {found_stride[0]}, expected s={s}: strides=(s, s) on the first 1x1 conv."
                if self.case.s is None:
                    hint += " (s was not passed here: the default must be s=2)"
            elif self.convolutional:
                hint = (f"{name} has stride {found_stride[0]}, expected 1: in the convolutional block only the "
                        "first 1x1 conv of the main path and the shortcut conv use the stride s.")
            else:
                hint = (f"{name} has stride {found_stride[0]}, expected 1: the identity block keeps the height "
                        "and width, every convolution has strides=(1, 1).")
            self.fail(f"strides of {name}", expected=(stride, stride), found=found_stride, hint=hint)
        if config["padding"] != padding:
            extra = (" (for a 1x1 kernel both give the same output, but the exercise asks for 'valid' as in "
                     "ResNet-50)" if kernel == 1 else " ('same' keeps the height and width so the Add works)")
            self.fail(f"padding of {name}", expected=repr(padding), found=repr(config["padding"]),
                      hint=f"{name} uses padding {config['padding']!r}, expected {padding!r}{extra}.")
        if config.get("activation") not in (None, "linear"):
            self.fail(f"activation inside {name}", expected="no activation (linear)",
                      found=repr(config.get("activation")),
                      hint=f"{name} has activation={config.get('activation')!r} built in: the ReLU comes after the "
                           "BatchNorm, so leave the Conv2D linear.")
        if config.get("dilation_rate", (1, 1)) not in ((1, 1), [1, 1]) or config.get("groups", 1) != 1:
            self.fail(f"settings of {name}", expected="dilation_rate=(1, 1), groups=1",
                      found=f"dilation_rate={config.get('dilation_rate')}, groups={config.get('groups')}",
                      hint="keep the default dilation and groups.")
        self.check_initializer(step, name, initializer)

    def check_initializer(self, step: Step, name: str, initializer) -> None:
        init = step.op.kernel_initializer
        seed = init.get_config().get("seed") if hasattr(init, "get_config") else None
        if initializer is KnownWeights:
            if not isinstance(init, KnownWeights):
                self.fail(f"kernel initializer of {name}", expected="initializer(seed=0), the initializer argument",
                          found=type(init).__name__,
                          hint=f"{name} ignores the initializer argument: use kernel_initializer=initializer(seed=0) "
                               "(the checks pass their own initializer through it).")
        else:
            if type(init).__name__ != "GlorotUniform":
                self.fail(f"kernel initializer of {name} with the default arguments",
                          expected="GlorotUniform(seed=0)", found=type(init).__name__,
                          hint="the default must be initializer=glorot_uniform, used as "
                               "kernel_initializer=initializer(seed=0).")
        if seed != 0:
            self.fail(f"kernel initializer of {name}", expected="initializer(seed=0)", found=f"seed={seed!r}",
                      hint=f"{name} uses initializer(seed={seed!r}), expected initializer(seed=0).")

    def check_bn(self, step: Step, branch: str) -> None:
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

    def check_layers(self, steps: list[Step], initializer) -> dict:
        """Names and settings along the main path; returns branch -> Conv2D step."""
        expected = self.expected_sequence()
        convs = {}
        for step, (want, _name) in zip(steps, expected):
            if want == "Conv2D":
                convs[MAIN_PATH[len(convs)]] = step
        bns = [s for s, (want, _) in zip(steps, expected) if want == "BatchNormalization"]
        for branch, step in convs.items():
            self.check_name(step, self.names(branch)[0])
        for branch, step in zip(MAIN_PATH, bns):
            self.check_name(step, self.names(branch)[1])
        for branch, step in convs.items():
            self.check_conv(step, branch, convs, initializer)
        for branch, step in zip(MAIN_PATH, bns):
            self.check_bn(step, branch)
        return convs

    # -- the shortcut ------------------------------------------------------------
    def check_shortcut(self, shortcut, main_steps: list[Step], initializer) -> None:
        main_ops = {id(s.op) for s in main_steps}
        ancestors = _ancestors(shortcut)
        if ancestors & main_ops:
            self.fail("where the shortcut comes from", expected="the block input X",
                      found=f"the output of {next(s.label() for s in main_steps if id(s.op) in ancestors)}",
                      hint="the shortcut starts from the main path instead of the block input: save "
                           "X_shortcut = X before the first convolution.")
        steps, stop = _walk_back(shortcut)
        if stop != "input":
            self.fail("where the shortcut comes from", expected="the block input X", found="another tensor",
                      hint="the shortcut starts from the main path instead of the block input: save "
                           "X_shortcut = X before the first convolution.")
        found = [s.kind for s in steps]
        if not self.convolutional:
            if steps:
                self.fail("the shortcut of the identity block", expected="the input X itself, unchanged",
                          found=" -> ".join(s.label() for s in steps),
                          hint="the identity block adds the input as it is: no layer on the shortcut "
                               "(the 1x1 conv shortcut belongs to the convolutional block).")
            return
        conv, bn = self.names("1")
        if found == ["Conv2D", "BatchNormalization"]:
            self.check_name(steps[0], conv)
            self.check_name(steps[1], bn)
            self.check_conv(steps[0], "1", {}, initializer)
            self.check_bn(steps[1], "1")
            return
        if found == ["Conv2D"]:
            self.fail("the shortcut", expected=f"Conv2D '{conv}' -> BatchNormalization '{bn}'",
                      found=steps[0].label(),
                      hint=f"shortcut has no BatchNorm ({bn} missing): "
                           f"BatchNormalization(axis=3, name='{bn}') after the shortcut conv.")
        if not found:
            self.fail("the shortcut", expected=f"Conv2D '{conv}' -> BatchNormalization '{bn}'",
                      found="the input X unchanged",
                      hint=f"the shortcut has no convolution: the convolutional block needs Conv2D(F3, (1, 1), "
                           f"strides=(s, s), name='{conv}') then BatchNormalization on the shortcut.")
        if found[:2] == ["Conv2D", "BatchNormalization"] and found[2:3] == ["ReLU"]:
            self.fail("the shortcut", expected=f"Conv2D '{conv}' -> BatchNormalization '{bn}'",
                      found=" -> ".join(s.label() for s in steps),
                      hint=f"a ReLU follows {bn}: the shortcut has no activation, it goes straight into the Add.")
        self.fail("the shortcut", expected=f"Conv2D '{conv}' -> BatchNormalization '{bn}'",
                  found=" -> ".join(s.label() for s in steps),
                  hint=f"the shortcut is one 1x1 Conv2D with stride s ({conv}) then BatchNormalization ({bn}).")

    # -- everything ------------------------------------------------------------
    def inspect(self, initializer) -> Trace:
        """Structural checks of a call with ``initializer`` (None: the student's default)."""
        self.current_init = initializer
        t = best_trace(self.fn, self.exercise, self.case, initializer)
        end = t.end
        if end is None:
            self.crash(t, None)
        tail, stop = _walk_back(end)
        add_step, shortcut = None, None
        if stop not in ("input", "other"):
            add_tensor = stop
            parents = _parents(add_tensor)
            add_step = Step(add_tensor, _producer(add_tensor))
            if add_step.kind != "Add" or len(parents) != 2:
                self.fail("the operation that joins the two paths", expected="Add of two tensors",
                          found=f"{add_step.kind} of {len(parents)} tensors",
                          hint="join the main path and the shortcut with Add()([X, X_shortcut]) "
                               "(or X + X_shortcut).")
            parents = sorted(parents, key=lambda p: len(_ancestors(p)), reverse=True)
            main_in, shortcut = parents
            main, main_stop = _walk_back(main_in)
            if main_stop not in ("input", "other"):
                self.fail("the structure of the block", expected="one Add (main path + shortcut)",
                          found="more than one operation with two inputs",
                          hint="the block has exactly one Add, after the third BatchNorm.")
            steps = main + [add_step] + tail
            main_path = main
        else:
            steps, main_path = tail, tail
        self.check_sequence(steps, crashed=t.error is not None, has_add=add_step is not None)
        self.check_layers(steps, initializer)
        if shortcut is not None:
            if shortcut is main_in or _producer(shortcut) is _producer(main_in):
                self.fail("where the shortcut comes from", expected="the block input X",
                          found="the main path (the Add adds a tensor to itself)",
                          hint="the shortcut starts from the main path instead of the block input: save "
                               "X_shortcut = X before the first convolution.")
            self.check_shortcut(shortcut, main_path, initializer)
        if t.error is not None:
            self.crash(t, steps)
        return t

    def crash(self, t: Trace, steps) -> None:
        """The student's code raised: name what we can, then report the error itself."""
        error = t.error
        message = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        full = len(steps or []) >= 8  # the main path was complete up to the third BatchNorm
        if full and steps and steps[-1].kind == "BatchNormalization":
            others = [x for x in t.tensors if id(_producer(x)) not in {id(s.op) for s in steps}]
            if not self.convolutional and not any(_is_input(x) for x in t.tensors):
                self.fail(f"raised {type(error).__name__} when adding the shortcut", expected="the block input X",
                          found=message,
                          hint="the shortcut starts from the main path instead of the block input: save "
                               "X_shortcut = X before the first convolution.")
            branches = [x for x in others if not _is_input(x)]
            if self.convolutional and branches:
                shortcut = max(branches, key=lambda x: len(_ancestors(x)))
                self.check_shortcut(shortcut, steps, self.current_init)
        last = steps[-1].label() if steps else "the start of the block"
        self.fail(f"raised {type(error).__name__}", found=message,
                  hint=f"the error happened after {last}; the shapes of the two tensors added must match "
                       "(same height, width and number of channels). Run the exercise cell on its own to see "
                       "the full traceback.")

    current_init = KnownWeights

    def check(self) -> None:
        """Structure with known weights, then values in both BatchNorm modes, then the default initializer."""
        x = self.case.data()
        for init_name, init in (("known", KnownWeights), ("glorot", None)):
            t = self.inspect(init)
            import keras

            model = keras.Model(t.inputs, t.output)
            outputs = {mode: np.asarray(model(x, training=mode == "training")) for mode in ("inference", "training")}
            for mode in ("inference", "training"):
                self.compare(outputs[mode], init_name, mode)

    def compare(self, found, init_name, mode) -> None:
        expected = self.expected[f"{init_name}_{mode}"]
        label = "known weights" if init_name == "known" else "the default glorot_uniform(seed=0)"
        what = f"output with {label}, BatchNorm in {mode} mode (training={mode == 'training'})"
        if found.shape != expected.shape:
            self.fail(f"{what}: wrong shape", expected=expected.shape, found=found.shape,
                      hint="check the strides and padding of each convolution.")
        if np.allclose(found, expected, atol=1e-4, rtol=1e-4):
            return
        other = "training" if mode == "inference" else "inference"
        if np.allclose(found, self.expected[f"{init_name}_{other}"], atol=1e-4, rtol=1e-4):
            flag = "True" if other == "training" else "False"
            hint = (f"BatchNorm is always in {other} mode: do not pass training={flag} when calling "
                    "BatchNormalization; Keras sets the mode from model(X, training=...).")
        else:
            hint = ("the layers look right but the numbers differ: check that the shortcut is added unchanged, "
                    "that nothing else (e.g. training=..., a constant or an extra operation) is applied, and "
                    "that every Conv2D uses kernel_initializer=initializer(seed=0).")
        diff = np.abs(found.astype(np.float64) - expected)
        index = tuple(int(i) for i in np.unravel_index(np.argmax(diff), diff.shape))
        self.fail(f"{what}: wrong values (largest difference {diff.max():.4g} at index {index})",
                  expected=np.round(expected[index].item(), 5), found=np.round(found[index].item(), 5), hint=hint)


def check_block(fn, exercise: str, cases: list[Case], convolutional: bool, references: dict) -> None:
    """Run the inspection on every case; raise CheckFailed at the first problem."""
    if not callable(fn):
        fail(f"{exercise} is not a function", expected="a function", found=type(fn).__name__)
    for case in cases:
        BlockInspector(fn, exercise, case, convolutional, references[case.name]).check()
