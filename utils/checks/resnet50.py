"""Checks of notebook 04: the student's ``ResNet50(input_shape, classes)``.

One exercise on the engine (:mod:`.engine`). Its ``run`` builds the model for a
case (``keras.backend.clear_session()`` first) and returns :func:`describe`
of it; the solution goes through the same ``run`` to make the references
(``utils/reference_values/04_resnet50.json``). Its ``compare`` reads the
student's description against the solution's in reading order: the stem
(ZeroPadding2D, conv1, bn_conv1, ReLU, MaxPooling2D), the blocks of each stage
(their letters, then every named layer's type, settings, output shape and
parameter count), the head (avg_pool, Flatten, fc<classes>), the total number
of parameters and the model's name. The first difference is reported in
words, e.g. "stage 3, block c: expected 128 filters in res3c_branch2b, found 64".

Cases: visible 64x64x3 images and 2 classes (the notebook's defaults);
hidden (on the instructor's side), another size and class count, so an answer
that hard-codes the input shape or the 2 classes passes visibly only.

Accepted (behaviour-equivalent spellings): ``Activation('relu')``, ``ReLU()``
and ``keras.ops.relu`` (operations are read from ``model.operations``, so a
ReLU that is not a layer is still seen); ``Add()``, ``add`` and ``x + y``;
``axis=-1`` vs ``axis=3``; ints vs tuples for sizes (``padding=3``,
``strides=2``); keyword or positional ``Input``/``Model``; names Keras
generates for unnamed layers; any kernel initializer; loops or explicit calls.

Rejected, and why:

* a missing, extra or reordered layer, or another filter count, kernel size,
  stride, padding, pool size or BatchNorm axis: it changes what the network
  computes (and usually its output shapes and parameter count);
* other layer names for the named layers (conv1, bn_conv1, res/bn<stage><block>_branch...,
  avg_pool, fc<classes>) and another model name: the notebook and later ones
  look layers up by these names (``model.get_layer("res2b_branch2a")``, the
  stage table, ``prepare_for_training``'s ``bn..._branch2c``);
* ``Dense(classes)`` followed by a separate softmax, or GlobalAveragePooling2D
  for the 2x2 average pooling: the architecture table of the notebook is the
  exercise, and fc<classes> must output the probabilities.

A model that cannot be built at the checked size (a wrong stride shrinks the
image too early, for example) is built once more for 4x larger images, and
the first wrong setting found there is named. Crashes go through
:func:`.engine.call`, with hints for the two usual ones (a block name used
twice, an Add of tensors of different shapes).
"""
from __future__ import annotations

import re
from types import SimpleNamespace

from . import engine, graph
from .core import CheckFailed, fail

ASSIGNMENT = "04_resnet50"
EXERCISE = "ResNet50"

CASES = engine.Parts(
    visible=engine.cases({"64x64x3_2_classes": {"input_shape": (64, 64, 3), "classes": 2}}),
    hidden=engine.hidden_cases(ASSIGNMENT, "CASES"))

_NAMED = re.compile(r"^(conv1|bn_conv1|avg_pool|fc\d+|(?:res|bn)\d[a-z]_branch(?:2a|2b|2c|1))$")
_BLOCK = re.compile(r"^(?:res|bn)(\d)([a-z])_branch(2a|2b|2c|1)$")
_SETTING_WORDS = {"filters": "filters", "kernel_size": "kernel size", "strides": "strides", "padding": "padding",
                  "pool_size": "pool size", "units": "units", "activation": "activation", "axis": "axis"}
STEM_HINT = ("the stem is ZeroPadding2D((3, 3)), Conv2D 64 7x7 stride 2 'conv1', BatchNormalization "
             "'bn_conv1', ReLU, MaxPooling2D((3, 3), strides=(2, 2)).")

CRASHES = (
    engine.CrashHint(("is used", "times in the model"),
                     "two layers got the same name: give every block of a stage its own letter "
                     "(block='a', 'b', 'c', ...) and its stage number (stage=2, 3, 4, 5).", ValueError),
    engine.CrashHint(("incompatible shapes",),
                     "an identity block adds its input to its output, so its input must already have the "
                     "block's output size and channels: block 'a' of every stage is a convolutional_block, "
                     "and every block of a stage uses the same filters, e.g. [128, 128, 512] for stage 3."),
)


# --------------------------------------------------------------------------- describing a model


def _canonical(row: dict) -> dict:
    """A layer_table row with generated names dropped and BatchNorm's axis made positive."""
    row = dict(row)
    row["name"] = row["name"] if _NAMED.match(row["name"]) else None
    settings = dict(row["settings"])
    if "axis" in settings:
        axis = settings["axis"]
        axis = axis[0] if isinstance(axis, list) and len(axis) == 1 else axis
        if isinstance(axis, int) and axis < 0:
            axis += len(row["output_shape"]) + 1
        settings["axis"] = axis
    row["settings"] = settings
    return row


def _operation_row(op) -> dict:
    """A layer_table-like row for an operation that is not a layer (``keras.ops.relu``, ``x + y``)."""
    from course_utils.models import output_shape

    return {"name": op.name, "type": graph.kind(op), "output_shape": output_shape(op), "params": 0,
            "settings": {}}


def describe(model) -> dict:
    """What the check compares: stem chains, block letters per stage, named layers, head, totals."""
    from course_utils.models import layer_table

    table = {row["name"]: row for row in layer_table(model)}
    operations = list(getattr(model, "operations", model.layers))  # ops such as keras.ops.relu included
    kinds = {op.name: graph.kind(op) for op in operations}
    rows = {op.name: _canonical(table.get(op.name) or _operation_row(op))
            for op in operations if kinds[op.name] != "InputLayer"}
    preds, succs = graph.layer_graph(SimpleNamespace(layers=operations))

    def walk_back(start, stop):
        chain, name = [], start
        while True:
            sources = preds.get(name, [])
            if len(sources) != 1 or kinds.get(sources[0]) == "InputLayer" or stop(sources[0]):
                return chain[::-1]
            name = sources[0]
            chain.append(rows[name])

    def walk_forward(start):
        chain, name = [], start
        while True:
            targets = succs.get(name, [])
            if len(targets) != 1 or _BLOCK.match(targets[0]) or targets[0] not in rows:
                return chain
            name = targets[0]
            chain.append(rows[name])

    stages: dict[str, str] = {}
    for name in rows:
        match = _BLOCK.match(name)
        if match and match[3] == "2a" and name.startswith("res"):
            stages[match[1]] = stages.get(match[1], "") + match[2]
    output_layer = operations[-1].name

    def head_stop(name):
        return kinds.get(name) == "Add" or bool(_BLOCK.match(name)) or any(
            kinds.get(p) == "Add" for p in preds.get(name, []))

    head = walk_back(output_layer, head_stop) + [rows[output_layer]] if output_layer in rows else []
    if output_layer in rows and head_stop(output_layer):
        head = []
    return {
        "stem_before_conv1": walk_back("conv1", lambda n: False) if "conv1" in rows else None,
        "stem_between": walk_back("bn_conv1", lambda n: n == "conv1") if "bn_conv1" in rows else None,
        "stem_after_bn_conv1": walk_forward("bn_conv1") if "bn_conv1" in rows else None,
        "stages": stages,
        "named": {name: row for name, row in rows.items() if row["name"]},
        "named_order": [name for name, row in rows.items() if row["name"]],
        "head": head,
        "params": int(model.count_params()),
        "model_name": model.name,
        "input_shape": [int(d) for d in model.inputs[0].shape[1:]],
        "output_shape": [int(d) for d in model.output.shape[1:]],
    }


# --------------------------------------------------------------------------- running an answer


def describe_case(case: engine.Case) -> str:
    return f"{EXERCISE}(input_shape={case['input_shape']}, classes={case['classes']})"


def _part(case: engine.Case) -> str:
    return next(part for part, cases in CASES.items() if case in cases)


def _at(case: engine.Case, error: CheckFailed) -> CheckFailed:
    """``error``, its first line naming the call when the case is not the notebook's default one."""
    what = error.what if _part(case) == "visible" else f"{describe_case(case)}: {error.what}"
    return CheckFailed(what, error.expected, error.found, error.hint, error.student_lines)


def _build(answer, input_shape, classes):
    import keras

    keras.backend.clear_session()
    model = answer(input_shape=input_shape, classes=classes)
    if not isinstance(model, keras.Model):
        fail(f"{EXERCISE}(input_shape={input_shape}, classes={classes}) did not return a Keras model",
             expected="keras.Model(inputs=X_input, outputs=X, name='ResNet50')", found=type(model).__name__,
             hint="end the function with `return model` after building it with keras.Model(...).")
    return model


def _diagnose_failed_build(answer, case: engine.Case) -> None:
    """The model cannot be built for ``case``: build it for 4x larger images and compare settings.

    A wrong stride, for example, shrinks the image too early so that a later
    layer fails; at a larger size the model builds and the first wrong setting
    can be named. Returns quietly when that does not help.
    """
    from course_utils import references

    input_shape = case["input_shape"]
    bigger = (input_shape[0] * 4, input_shape[1] * 4, *input_shape[2:])
    try:
        reference = references.stored(ASSIGNMENT, EXERCISE, _part(case))[case.name]
        found = describe(_build(answer, bigger, case["classes"]))
    except Exception:  # the larger model fails too (or no references yet): report the original crash
        return
    try:
        compare_descriptions(found, reference, case["classes"], shapes=False)
    except CheckFailed as error:
        raise _at(case, CheckFailed(error.what + f" (so the model cannot even be built for {tuple(input_shape)} "
                                    "images)", error.expected, error.found, error.hint)) from None


def run(answer, case: engine.Case) -> dict:
    """Build the answer's model for ``case`` and describe it (for the checks and the references alike)."""
    try:
        model = _build(answer, case["input_shape"], case["classes"])
    except (CheckFailed, NotImplementedError):
        raise
    except Exception:
        _diagnose_failed_build(answer, case)  # raises a failure naming a wrong setting, if it finds one
        raise  # engine.call reports the crash, with the student's lines and a hint from CRASHES
    return describe(model)


# --------------------------------------------------------------------------- words


def _where(name: str) -> str:
    match = _BLOCK.match(name or "")
    if match:
        return f"stage {match[1]}, block {match[2]}: "
    if name in ("conv1", "bn_conv1"):
        return "stage 1: "
    return ""


def _fmt(value) -> str:
    if isinstance(value, (list, tuple)):
        return "(" + ", ".join(_fmt(v) for v in value) + ")"
    return str(value)


def _a(word: str) -> str:
    return f"{'an' if word[:1] in 'AEIOU' else 'a'} {word}"


def _letters(letters: str) -> str:
    return f"{letters[0]}-{letters[-1]}" if len(letters) > 1 else letters


def _setting_hint(name: str, key: str, stage_filters: dict) -> str:
    match = _BLOCK.match(name or "")
    if key == "filters" and match:
        return (f"every block of stage {match[1]} uses the filters {stage_filters.get(match[1])}; "
                "check the list you pass for this stage.")
    if key == "strides" and match:
        return ("the convolutional block 'a' of stage 2 uses s=1; those of stages 3, 4 and 5 use s=2 "
                "(that is what halves the height and width).")
    if key == "kernel_size" and match:
        return "pass f=3 to every block: the middle convolution of a bottleneck block is 3x3."
    if name == "conv1":
        return "the stem is Conv2D(64, (7, 7), strides=(2, 2), name='conv1') on the zero-padded input."
    if key == "axis":
        return "BatchNormalization(axis=3) normalizes over the channels axis."
    if key == "activation":
        return ("the classifier is Dense(classes, activation='softmax', name='fc' + str(classes)): the softmax "
                "belongs to the fc layer itself, not to a separate layer after it.")
    if key == "units":
        return "the last Dense layer needs `classes` units: use the argument, don't hard-code a number."
    return "compare this layer with the architecture described above the exercise."


def _stage_filters(reference: dict) -> dict:
    found = {}
    for name, row in reference["named"].items():
        match = _BLOCK.match(name)
        if match and match[2] == "a":
            found.setdefault(match[1], {})[match[3]] = row["settings"].get("filters")
    return {s: [f.get("2a"), f.get("2b"), f.get("2c")] for s, f in found.items()}


def _compare_row(label: str, name: str, expected: dict, found: dict, stage_filters: dict,
                 shapes: bool = True) -> None:
    """Type, settings, output shape and parameter count of one layer."""
    where = _where(name)
    if expected["type"] != found["type"]:
        fail(f"{where}{label}: expected {_a(expected['type'])} layer, found {found['type']}",
             expected=expected["type"], found=found["type"],
             hint="the layer with this name is of the wrong type; see the architecture above.")
    for key, value in expected["settings"].items():
        got = found["settings"].get(key)
        if got != value:
            word = _SETTING_WORDS.get(key, key)
            sentence = (f"{where}expected {value} filters in {label}, found {got}" if key == "filters" else
                        f"{where}expected {word} {_fmt(value)} in {label}, found {_fmt(got)}")
            fail(sentence, expected=f"{word} {_fmt(value)}", found=f"{word} {_fmt(got)}",
                 hint=_setting_hint(name, key, stage_filters))
    if shapes and expected["output_shape"] != found["output_shape"]:
        fail(f"{where}expected output shape {_fmt(expected['output_shape'])} after {label}, "
             f"found {_fmt(found['output_shape'])}", expected=_fmt(expected["output_shape"]),
             found=_fmt(found["output_shape"]),
             hint="a stride, a padding or the input of this layer differs from the architecture "
                  "(an earlier layer may be connected to the wrong tensor).")
    if expected["params"] != found["params"]:
        fail(f"{where}expected {expected['params']:,} parameters in {label}, found {found['params']:,}",
             expected=f"{expected['params']:,}", found=f"{found['params']:,}",
             hint="use_bias or the number of input channels differs; keep the Keras defaults.")


def _describe_layer(row: dict) -> str:
    settings = row["settings"]
    if row["type"] in ("MaxPooling2D", "AveragePooling2D"):
        size = settings.get("pool_size")
        text = f"{row['type']} {_fmt(size)}"
        if settings.get("strides") not in (None, size):
            text += f" stride {_fmt(settings.get('strides'))}"
        return text
    if row["type"] == "ZeroPadding2D":
        return f"ZeroPadding2D {_fmt(settings.get('padding'))}"
    if row["type"] == "Dense":
        return f"Dense({settings.get('units')}, {settings.get('activation')})"
    return row["type"]


def _chain_hint(exp: dict, key: str, hint: str) -> str:
    if key == "strides" and exp["type"] == "MaxPooling2D":
        return ("MaxPooling2D's strides default to its pool size: pass strides=(2, 2) to "
                "MaxPooling2D((3, 3), ...).")
    return hint


def _compare_chain(context: str, expected: list, found: list, hint: str, stage_filters: dict,
                   before: str | None = None, shapes: bool = True) -> None:
    """Unnamed layers in a row (stem, head): missing, extra, swapped, wrong type, wrong settings, wrong shape."""
    done: list[str] = []
    for i, exp in enumerate(expected):
        after = "/".join([context] + done) if context else "/".join(done)
        label = exp["name"] or exp["type"]
        place = f" before {before}" if before and i == len(expected) - 1 else (f" after {after}" if after else "")
        if i >= len(found):
            fail(f"{label}{place} is missing", expected=_describe_layer(exp), found="nothing", hint=hint)
        got = found[i]
        if got["type"] != exp["type"]:
            swapped = (i + 1 < len(expected) and i + 1 < len(found) and got["type"] == expected[i + 1]["type"]
                       and found[i + 1]["type"] == exp["type"])
            if swapped:
                fail(f"{_describe_layer(got)} and {label}{place} are in the wrong order",
                     expected=f"{_describe_layer(exp)}, then {_describe_layer(expected[i + 1])}",
                     found=f"{_describe_layer(got)}, then {_describe_layer(found[i + 1])}",
                     hint=f"swap these two layers: {hint}")
            if i + 1 < len(expected) and got["type"] == expected[i + 1]["type"]:
                fail(f"{label}{place} is missing", expected=_describe_layer(exp),
                     found=f"{_describe_layer(got)} directly", hint=hint)
            if i + 1 < len(found) and found[i + 1]["type"] == exp["type"]:
                fail(f"extra layer {_describe_layer(got)}{place}", expected=_describe_layer(exp),
                     found=_describe_layer(got), hint=hint)
            if got["type"] == "GlobalAveragePooling2D":
                hint = ("use the table's AveragePooling2D((2, 2), name='avg_pool'): it is a global average "
                        "only when stage 5 is 2x2 (64x64 images), so the two differ on other sizes.")
            fail(f"{label}: expected {_describe_layer(exp)}, found {_describe_layer(got)}",
                 expected=_describe_layer(exp), found=_describe_layer(got), hint=hint)
        if exp["name"] and got["name"] != exp["name"]:
            if re.match(r"fc\d+$", got["name"] or "") and exp["name"].startswith("fc"):
                fail(f"{label}: expected the Dense layer to be named '{exp['name']}', found '{got['name']}'",
                     expected=exp["name"], found=got["name"],
                     hint="use the classes argument: name='fc' + str(classes) and Dense(classes, ...); "
                          "don't hard-code the number of classes.")
            named = f"one named '{got['name']}'" if got["name"] else "one without a name"
            fail(f"{label}: expected {_a(exp['type'])} named '{exp['name']}', found {named}",
                 expected=exp["name"], found=got["name"] or "a name Keras made up",
                 hint=f"pass name='{exp['name']}' to this layer (later notebooks find it by name).")
        for key, value in exp["settings"].items():
            if got["settings"].get(key) != value:
                word = _SETTING_WORDS.get(key, key)
                if key == "activation":
                    sentence = f"{label}: expected {value} activation, found {got['settings'].get(key)}"
                else:
                    sentence = (f"{label}{place}: expected {_describe_layer(exp)}, found {_describe_layer(got)}"
                                f" ({word} {_fmt(got['settings'].get(key))})")
                fail(sentence, expected=f"{word} {_fmt(value)}", found=f"{word} {_fmt(got['settings'].get(key))}",
                     hint=_chain_hint(exp, key, hint) if key != "activation"
                     else _setting_hint(exp["name"], key, stage_filters))
        if shapes and (got["output_shape"] != exp["output_shape"] or got["params"] != exp["params"]):
            _compare_row(label, exp["name"] or "", exp, got, stage_filters)
        done.append(exp["type"] if not exp["name"] else exp["name"])
    if len(found) > len(expected):
        extra = found[len(expected)]
        fail(f"extra layer {_describe_layer(extra)} after {'/'.join([context] + done)}",
             expected="nothing more", found=_describe_layer(extra), hint=hint)


def _compare_between(found: dict, reference: dict, stage_filters: dict, shapes: bool) -> None:
    """What lies between conv1 and bn_conv1 (nothing): names a ReLU applied before the BatchNorm."""
    between = found.get("stem_between") or []
    after = found.get("stem_after_bn_conv1") or []
    if between and between[0]["type"] == "ReLU" and not any(row["type"] == "ReLU" for row in after):
        fail("stage 1: the ReLU comes before bn_conv1", expected="conv1 -> bn_conv1 -> ReLU",
             found="conv1 -> ReLU -> bn_conv1",
             hint="normalize first, then apply the ReLU: BatchNormalization(axis=3, name='bn_conv1') "
                  "directly on conv1's output, then ReLU().")
    _compare_chain("conv1", reference.get("stem_between", []), between,
                   "bn_conv1 works directly on conv1's output. " + STEM_HINT, stage_filters, shapes=shapes)


def compare_descriptions(found: dict, reference: dict, classes: int, shapes: bool = True) -> None:
    """Raise CheckFailed at the first difference, in reading order.

    ``shapes=False`` compares types and settings only (used on a model built
    for a larger input when the student's model cannot be built at the checked size).
    """
    stage_filters = _stage_filters(reference)
    if shapes and found["input_shape"] != reference["input_shape"]:
        fail(f"the model's input: expected shape {_fmt(reference['input_shape'])}, "
             f"found {_fmt(found['input_shape'])}", expected=_fmt(reference["input_shape"]),
             found=_fmt(found["input_shape"]),
             hint="build the input from the argument, X_input = Input(input_shape); don't hard-code the image size.")
    for name in ("conv1", "bn_conv1"):
        if name not in found["named"]:
            fail(f"stage 1: no layer named '{name}'", expected=_describe_layer(reference["named"][name]),
                 found="no such layer", hint=f"pass name='{name}' to this layer of the stem.")
    _compare_chain("input", reference["stem_before_conv1"], found["stem_before_conv1"] or [],
                   "conv1 works on the input padded by ZeroPadding2D((3, 3)).", stage_filters, before="conv1",
                   shapes=shapes)
    _compare_row("conv1", "conv1", reference["named"]["conv1"], found["named"]["conv1"], stage_filters, shapes)
    _compare_between(found, reference, stage_filters, shapes)
    _compare_row("bn_conv1", "bn_conv1", reference["named"]["bn_conv1"], found["named"]["bn_conv1"],
                 stage_filters, shapes)
    _compare_chain("bn_conv1", reference["stem_after_bn_conv1"], found["stem_after_bn_conv1"] or [],
                   STEM_HINT, stage_filters, shapes=shapes)
    for stage, letters in reference["stages"].items():
        got = found["stages"].get(stage)
        if not got:
            fail(f"stage {stage} is missing (expected {len(letters)} blocks, {_letters(letters)})",
                 expected=f"{len(letters)} blocks", found="none",
                 hint=f"stage {stage} is one convolutional block 'a' followed by identity blocks.")
        if len(got) != len(letters):
            fail(f"stage {stage} has {len(got)} blocks, expected {len(letters)} ({_letters(letters)})",
                 expected=f"{len(letters)} blocks: {', '.join(letters)}", found=f"{len(got)} blocks: {', '.join(got)}",
                 hint="ResNet-50 has 3, 4, 6 and 3 blocks in stages 2, 3, 4 and 5: one convolutional block "
                      "'a', then identity blocks.")
        if got != letters:
            fail(f"stage {stage}: expected blocks {', '.join(letters)}, found {', '.join(got)}",
                 expected=", ".join(letters), found=", ".join(got),
                 hint="name the blocks of each stage 'a', 'b', 'c', ... in order (the block argument).")
        for name in [n for n in reference["named_order"] if (_BLOCK.match(n) or [None, None])[1] == stage]:
            if name not in found["named"]:
                fail(f"{_where(name)}no layer named {name}", expected=_describe_layer(reference["named"][name]),
                     found="no such layer",
                     hint="block 'a' of every stage is a convolutional_block (it has a shortcut "
                          "convolution ..._branch1); the others are identity_blocks.")
            _compare_row(name, name, reference["named"][name], found["named"][name], stage_filters, shapes)
    extra = sorted(set(found["stages"]) - set(reference["stages"]))
    if extra:
        fail(f"found blocks of a stage {extra[0]}, which ResNet-50 does not have",
             expected=f"stages {', '.join(reference['stages'])}", found=f"stage {extra[0]}",
             hint="ResNet-50 has stages 2 to 5 after the stem.")
    head_hint = ("the head is AveragePooling2D((2, 2), name='avg_pool'), Flatten(), then "
                 f"Dense({classes}, activation='softmax', name='fc{classes}').")
    _compare_chain("", reference["head"], found["head"], head_hint, stage_filters, shapes=shapes)
    if not shapes:
        return
    if found["params"] != reference["params"]:
        fail(f"the model has {found['params']:,} parameters, expected {reference['params']:,}",
             expected=f"{reference['params']:,}", found=f"{found['params']:,}",
             hint="a layer is missing or added somewhere; compare model.summary() with the table above.")
    if found["model_name"] != reference["model_name"]:
        fail(f"model name: expected '{reference['model_name']}', found '{found['model_name']}'",
             expected=reference["model_name"], found=found["model_name"],
             hint="build it with keras.Model(inputs=X_input, outputs=X, name='ResNet50').")


def compare(found: dict, expected: dict, case: engine.Case) -> None:
    """The engine's comparison of one case: :func:`compare_descriptions`, the call named for a hidden case."""
    try:
        compare_descriptions(found, expected, case["classes"])
    except CheckFailed as error:
        raise _at(case, error) from None


# --------------------------------------------------------------------------- the exercise


CHECKS = engine.Assignment(ASSIGNMENT, [
    engine.Exercise(
        EXERCISE, cases=CASES, run=run, describe=describe_case, compare=compare, crashes=CRASHES,
        requires=engine.callable_answer(EXERCISE), implementation="course_utils.resnet50:resnet50",
        hint="compare model.summary() with the architecture table above the exercise."),
])

check_ResNet50 = CHECKS.checker(EXERCISE)
build_references = CHECKS.build_references
