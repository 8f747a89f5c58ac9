"""Checks for notebook 04: the student's ``ResNet50(input_shape, classes)``.

The student's model is compared, in reading order, with a description of the
solution's model stored in ``autograde/references/04_resnet50.json``: the stem
(ZeroPadding2D, conv1, bn_conv1, ReLU, MaxPooling2D), the blocks of each stage
(their letters, then every named layer's type, settings, output shape and
parameter count), the head (avg_pool, Flatten, fc<classes>), the total number
of parameters and the model's name. The first difference is reported in words,
e.g. "stage 3, block c: expected 128 filters in res3c_branch2b, found 64".

Differences that do not matter are ignored: names Keras generates for unnamed
layers, ``Activation('relu')`` vs ``ReLU()``, ``Add()`` vs ``add``, ``axis=-1``
vs ``axis=3``, ints vs tuples for sizes.
"""
from __future__ import annotations

import re

from .core import CheckFailed, call_student, fail, passed

ASSIGNMENT = "04_resnet50"
EXERCISE = "ResNet50"

# (input_shape, classes): the visible check and the hidden one (another size and class count).
CASES = {"visible": ((64, 64, 3), 2), "hidden": ((96, 96, 3), 3)}

_NAMED = re.compile(r"^(conv1|bn_conv1|avg_pool|fc\d+|(?:res|bn)\d[a-z]_branch(?:2a|2b|2c|1))$")
_BLOCK = re.compile(r"^(?:res|bn)(\d)([a-z])_branch(2a|2b|2c|1)$")
_SETTING_WORDS = {"filters": "filters", "kernel_size": "kernel size", "strides": "strides", "padding": "padding",
                  "pool_size": "pool size", "units": "units", "activation": "activation", "axis": "axis"}


# --------------------------------------------------------------------------- describing a model


def _graph(model):
    """layer name -> names of the layers feeding it (first inbound node)."""
    preds = {}
    for layer in model.layers:
        nodes = getattr(layer, "_inbound_nodes", [])
        names = []
        if nodes:
            for tensor in nodes[0].input_tensors:
                history = getattr(tensor, "_keras_history", None)
                if history is not None:
                    names.append(history.operation.name)
        preds[layer.name] = names
    succs: dict[str, list[str]] = {name: [] for name in preds}
    for name, sources in preds.items():
        for source in sources:
            succs.setdefault(source, []).append(name)
    return preds, succs


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


def describe(model) -> dict:
    """What the check compares: stem chains, block letters per stage, named layers, head, totals."""
    from course_utils.models import layer_table

    rows = {r["name"]: _canonical(r) for r in layer_table(model)}
    kinds = {layer.name: type(layer).__name__ for layer in model.layers}
    preds, succs = _graph(model)

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
    output_layer = model.layers[-1].name

    def head_stop(name):
        return kinds.get(name) == "Add" or bool(_BLOCK.match(name)) or any(
            kinds.get(p) == "Add" for p in preds.get(name, []))

    head = walk_back(output_layer, head_stop) + [rows[output_layer]] if output_layer in rows else []
    if output_layer in rows and head_stop(output_layer):
        head = []
    return {
        "stem_before_conv1": walk_back("conv1", lambda n: False) if "conv1" in rows else None,
        "stem_after_bn_conv1": walk_forward("bn_conv1") if "bn_conv1" in rows else None,
        "stages": stages,
        "named": {name: row for name, row in rows.items() if row["name"]},
        "named_order": [name for name, row in rows.items() if row["name"]],
        "head": head,
        "params": int(model.count_params()),
        "model_name": model.name,
        "output_shape": [int(d) for d in model.output.shape[1:]],
    }


def build_references(ns: dict) -> dict:
    import keras

    cases = {}
    for key, (input_shape, classes) in CASES.items():
        keras.backend.clear_session()
        model = ns[EXERCISE](input_shape=input_shape, classes=classes)
        cases[key] = describe(model)
    return {"cases": cases}


# --------------------------------------------------------------------------- words


def _where(name: str) -> str:
    match = _BLOCK.match(name or "")
    if match:
        return f"stage {match[1]}, block {match[2]}: "
    if name in ("conv1", "bn_conv1"):
        return "stage 1: "
    return ""


def _fmt(value) -> str:
    if isinstance(value, list):
        return "(" + ", ".join(str(v) for v in value) + ")"
    return str(value)


def _letters(letters: str) -> str:
    return f"{letters[0]}-{letters[-1]}" if len(letters) > 1 else letters


def _setting_hint(name: str, key: str, expected, stage_filters: dict) -> str:
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
        return "the classifier is Dense(classes, activation='softmax', name='fc' + str(classes))."
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
        fail(f"{where}{label}: expected a {expected['type']} layer, found {found['type']}",
             expected=expected["type"], found=found["type"],
             hint="the layer with this name is of the wrong type; see the architecture above.")
    for key, value in expected["settings"].items():
        got = found["settings"].get(key)
        if got != value:
            word = _SETTING_WORDS.get(key, key)
            sentence = (f"{where}expected {value} filters in {label}, found {got}" if key == "filters" else
                        f"{where}expected {word} {_fmt(value)} in {label}, found {_fmt(got)}")
            fail(sentence, expected=f"{word} {_fmt(value)}", found=f"{word} {_fmt(got)}",
                 hint=_setting_hint(name, key, value, stage_filters))
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


def _compare_chain(context: str, expected: list, found: list, hint: str, stage_filters: dict,
                   before: str | None = None, shapes: bool = True) -> None:
    """Unnamed layers in a row (stem, head): missing, extra, wrong type, wrong settings, wrong shape."""
    done: list[str] = []
    for i, exp in enumerate(expected):
        after = "/".join([context] + done) if context else "/".join(done)
        label = exp["name"] or exp["type"]
        place = f" before {before}" if before and i == len(expected) - 1 else (f" after {after}" if after else "")
        if i >= len(found):
            fail(f"{label}{place} is missing", expected=_describe_layer(exp), found="nothing", hint=hint)
        got = found[i]
        if got["type"] != exp["type"]:
            if i + 1 < len(expected) and got["type"] == expected[i + 1]["type"]:
                fail(f"{label}{place} is missing", expected=_describe_layer(exp),
                     found=f"{_describe_layer(got)} directly", hint=hint)
            if i + 1 < len(found) and found[i + 1]["type"] == exp["type"]:
                fail(f"extra layer {_describe_layer(got)}{place}", expected=_describe_layer(exp),
                     found=_describe_layer(got), hint=hint)
            fail(f"{label}: expected {_describe_layer(exp)}, found {_describe_layer(got)}",
                 expected=_describe_layer(exp), found=_describe_layer(got), hint=hint)
        if exp["name"] and got["name"] != exp["name"]:
            if re.match(r"fc\d+$", got["name"] or "") and exp["name"].startswith("fc"):
                fail(f"{label}: expected the Dense layer to be named '{exp['name']}', found '{got['name']}'",
                     expected=exp["name"], found=got["name"],
                     hint="use the classes argument: name='fc' + str(classes) and Dense(classes, ...); "
                          "don't hard-code the number of classes.")
            fail(f"{label}: expected a {exp['type']} named '{exp['name']}', found one named "
                 f"'{got['name'] or 'automatically'}'", expected=exp["name"], found=got["name"],
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
                     hint=hint if key != "activation" else _setting_hint(exp["name"], key, value, stage_filters))
        if shapes and (got["output_shape"] != exp["output_shape"] or got["params"] != exp["params"]):
            _compare_row(label, exp["name"] or "", exp, got, stage_filters)
        done.append(exp["type"] if not exp["name"] else exp["name"])
    if len(found) > len(expected):
        extra = found[len(expected)]
        fail(f"extra layer {_describe_layer(extra)} after {'/'.join([context] + done)}",
             expected="nothing more", found=_describe_layer(extra), hint=hint)


def _diagnose_failed_build(fn, reference, input_shape, classes) -> None:
    """The model cannot be built at ``input_shape``: build it for 4x larger images and compare settings.

    A wrong stride, for example, shrinks the image too early so that a later
    layer fails; at a larger size the model builds and the first wrong setting
    can be named.
    """
    import keras

    bigger = (input_shape[0] * 4, input_shape[1] * 4, *input_shape[2:])
    keras.backend.clear_session()
    try:
        model = fn(input_shape=bigger, classes=classes)
        found = describe(model)
    except Exception:
        return
    try:
        compare(found, reference, input_shape, classes, shapes=False)
    except CheckFailed as error:
        raise CheckFailed(error.what + f" (so the model cannot even be built for {tuple(input_shape)} images)",
                          error.expected, error.found, error.hint) from None


def _build(fn, input_shape, classes, reference=None):
    import keras

    keras.backend.clear_session()
    try:
        model = call_student(fn, input_shape=input_shape, classes=classes, name=EXERCISE)
    except CheckFailed as error:
        if reference is not None and "not written yet" not in error.what:
            _diagnose_failed_build(fn, reference, input_shape, classes)
        text = str(error.found or "")
        if "is used" in text and "times in the model" in text:
            error.hint = ("two layers got the same name: give every block of a stage its own letter "
                          "(block='a', 'b', 'c', ...) and its stage number (stage=2, 3, 4, 5).")
            raise CheckFailed(error.what, error.expected, error.found, error.hint) from None
        if "incompatible shapes" in text.lower() or "shape" in text.lower() and "add" in text.lower():
            raise CheckFailed(error.what, error.expected, error.found,
                              "an identity block adds its input to its output, so its last filter count must "
                              "equal its input's channels: give every block of a stage the same filters, "
                              "e.g. [128, 128, 512] for stage 3.") from None
        raise
    if not isinstance(model, keras.Model):
        fail(f"{EXERCISE}(input_shape={input_shape}, classes={classes}) did not return a Keras model",
             expected="keras.Model(inputs=X_input, outputs=X, name='ResNet50')", found=type(model).__name__,
             hint="end the function with `return model` after building it with keras.Model(...).")
    return model


def compare(found: dict, reference: dict, input_shape, classes, shapes: bool = True) -> None:
    """Raise CheckFailed at the first difference, in reading order.

    ``shapes=False`` compares types and settings only (used on a model built
    for a larger input when the student's model cannot be built at the checked size).
    """
    stage_filters = _stage_filters(reference)
    stem_hint = ("the stem is ZeroPadding2D((3, 3)), Conv2D 64 7x7 stride 2 'conv1', BatchNormalization "
                 "'bn_conv1', ReLU, MaxPooling2D((3, 3), strides=(2, 2)).")
    for name in ("conv1", "bn_conv1"):
        if name not in found["named"]:
            fail(f"stage 1: no layer named '{name}'", expected=_describe_layer(reference["named"][name]),
                 found="no such layer", hint=f"pass name='{name}' to this layer of the stem.")
    _compare_chain("input", reference["stem_before_conv1"], found["stem_before_conv1"] or [],
                   "conv1 works on the input padded by ZeroPadding2D((3, 3)).", stage_filters, before="conv1",
                   shapes=shapes)
    _compare_row("conv1", "conv1", reference["named"]["conv1"], found["named"]["conv1"], stage_filters, shapes)
    _compare_row("bn_conv1", "bn_conv1", reference["named"]["bn_conv1"], found["named"]["bn_conv1"],
                 stage_filters, shapes)
    _compare_chain("bn_conv1", reference["stem_after_bn_conv1"], found["stem_after_bn_conv1"] or [],
                   stem_hint, stage_filters, shapes=shapes)
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


def check_resnet50(ResNet50, hidden: bool = False) -> None:
    """Build the student's model and compare it with the solution's, layer by layer."""
    from course_utils import references

    cases = references.load(ASSIGNMENT)["cases"]
    keys = ["hidden"] if hidden else ["visible"]
    for key in keys:
        input_shape, classes = CASES[key]
        model = _build(ResNet50, input_shape, classes, cases[key])
        try:
            compare(describe(model), cases[key], input_shape, classes)
        except CheckFailed as error:
            if key == "hidden":
                error.what = f"ResNet50(input_shape={input_shape}, classes={classes}): {error.what}"
                raise CheckFailed(error.what, error.expected, error.found, error.hint) from None
            raise
    if not hidden:
        passed(EXERCISE)
