"""Answer catalogue of notebook 05 (ResNet-34 from a ResidualUnit layer); format in ``tests/catalogue.py``."""
from __future__ import annotations

import textwrap

from catalogue import Alternative, HardCoded, Mistake, edit, src
from course_autograde.notebook_code import answer_sources, notebook_path, read_notebook

SOLUTION = answer_sources(read_notebook(notebook_path("05_resnet34")))
UNIT, BUILD = SOLUTION["ResidualUnit"], SOLUTION["build_resnet34"]

CONV1 = 'self.conv1 = layers.Conv2D(filters, 3, strides=strides, padding="same", use_bias=False)'
CONV2 = 'self.conv2 = layers.Conv2D(filters, 3, strides=1, padding="same", use_bias=False)'
SKIP = 'self.shortcut_conv = layers.Conv2D(filters, 1, strides=strides, padding="same", use_bias=False)'
RETURN = "return self.activation(z + shortcut)"
MAIN2 = "z = self.bn2(self.conv2(z), training=training)"
MAIN1 = "z = self.activation(self.bn1(z, training=training))"
SHORTCUT = "shortcut = self.shortcut_bn(self.shortcut_conv(inputs), training=training)"
GET_CONFIG = UNIT[UNIT.index("    def get_config(self):"):]
ACTIVATION = "self.activation = keras.activations.get(activation)"
STEM = 'x = layers.Conv2D(64, 7, strides=2, padding="same", use_bias=False)(inputs)'
STEM_BN = "    x = layers.BatchNormalization()(x)\n"
UNIT_STRIDES = "strides=2 if stage > 0 and unit == 0 else 1"
UNIT_CALL = "x = ResidualUnit(filters, strides=2 if stage > 0 and unit == 0 else 1)(x)"
POOL = 'x = layers.MaxPool2D(pool_size=3, strides=2, padding="same")(x)'
HEAD = "x = layers.GlobalAveragePooling2D()(x)"
DENSE = 'outputs = layers.Dense(classes, activation="softmax")(x)'
SCHEDULE = "[(64, 3), (128, 4), (256, 6), (512, 3)]"


def unit(id, *edits, words):
    return Mistake(id, "ResidualUnit", edit(UNIT, *edits), words)


def model(id, *edits, words):
    return Mistake(id, "build_resnet34", edit(BUILD, *edits), words)


MISTAKES = [
    # ------------------------------------------------------------------ ResidualUnit: structure
    unit("skip_path_always_present", ("self.projection = strides > 1", "self.projection = True"),
         words=("skip path always present", "strides=1")),
    unit("skip_path_never_present", ("self.projection = strides > 1", "self.projection = False"),
         words=("skip path missing", "1x1")),
    unit("projection_only_when_strides_is_2", ("self.projection = strides > 1", "self.projection = strides == 2"),
         words=("skip path missing", "strides=3", "2, 3")),
    unit("skip_conv_without_stride", (SKIP, SKIP.replace("1, strides=strides", "1, strides=1")),
         words=("skip conv without stride", "strides")),
    unit("skip_conv_stride_fixed_at_2", (SKIP, SKIP.replace("1, strides=strides", "1, strides=2")),
         words=("strides=3", "shortcut's stride is a fixed 2")),
    unit("first_conv_stride_fixed_at_2", (CONV1, CONV1.replace("strides=strides", "strides=2 if strides > 1 else 1")),
         words=("strides=3", "first 3x3 convolution's stride is a fixed 2")),
    unit("stride_in_one_direction_only", (CONV1, CONV1.replace("strides=strides", "strides=(strides, 1)")),
         (SKIP, SKIP.replace("strides=strides", "strides=(strides, 1)")),
         words=("stride applied in one direction only", "(2, 1)")),
    unit("main_path_not_strided", (CONV1, CONV1.replace("strides=strides", "strides=1")),
         words=("main path is not strided",)),
    unit("stride_on_second_conv", (CONV1, CONV1.replace("strides=strides", "strides=1")),
         (CONV2, CONV2.replace("strides=1", "strides=strides")),
         words=("stride is on the second 3x3 convolution",)),
    unit("batchnorm_missing_in_main_path", ("        self.bn2 = layers.BatchNormalization()\n", ""),
         (MAIN2, "z = self.conv2(z)"), words=("BatchNorm missing", "expected 2 BatchNormalization")),
    unit("batchnorm_missing_in_skip_path", ("            self.shortcut_bn = layers.BatchNormalization()\n", ""),
         (SHORTCUT, "shortcut = self.shortcut_conv(inputs)"),
         words=("BatchNorm missing", "expected 3 BatchNormalization", "after the shortcut")),
    unit("bias_left_on", (CONV1, CONV1.replace(", use_bias=False", "")), (CONV2, CONV2.replace(", use_bias=False", "")),
         words=("bias left on", "use_bias=False")),
    unit("padding_valid", (CONV1, CONV1.replace('"same"', '"valid"')), words=("padding='valid'",)),
    # ------------------------------------------------------------------ ResidualUnit: outputs
    unit("activation_before_addition_only", (RETURN, "return self.activation(z) + shortcut"),
         words=("BEFORE the addition", "activation(main + shortcut)")),
    unit("final_activation_missing", (RETURN, "return z + shortcut"), words=("no activation after the addition",)),
    unit("activation_before_and_after_addition",
         (MAIN2, "z = self.activation(self.bn2(self.conv2(z), training=training))"),
         words=("both before and after the addition",)),
    unit("activation_argument_ignored", (ACTIVATION, "self.activation = keras.activations.relu"),
         words=("you always use ReLU", "activation='elu'")),
    Mistake("batchnorm_always_in_training_mode", "ResidualUnit", UNIT.replace("training=training", "training=True"),
            ("training mode", "although training=False")),
    Mistake("batchnorm_never_in_training_mode", "ResidualUnit", UNIT.replace("training=training", "training=False"),
            ("ignored training=True",)),
    unit("no_activation_between_convs", (MAIN1, "z = self.bn1(z, training=training)"),
         words=("activation between the two convolutions is missing",)),
    unit("activation_before_batchnorm", (MAIN1, "z = self.bn1(self.activation(z), training=training)"),
         words=("activation comes before the BatchNorm",)),
    unit("no_shortcut_added", (RETURN, "return self.activation(z)"), words=("shortcut is missing",)),
    unit("activation_on_the_projected_shortcut",
         (SHORTCUT, "shortcut = self.activation(self.shortcut_bn(self.shortcut_conv(inputs), training=training))"),
         words=("projected shortcut went through the activation",)),
    # ------------------------------------------------------------------ ResidualUnit: protocol
    unit("missing_get_config", (GET_CONFIG, ""), words=("missing get_config", "NotImplementedError")),
    unit("get_config_without_activation",
         (',\n                "activation": keras.activations.serialize(self.activation)', ""),
         words=("lacks activation",)),
    unit("get_config_without_base_config", ("{**super().get_config(), ", "{"),
         words=("lost the base layer's settings", "super().get_config()")),
    unit("init_without_kwargs", ("def __init__(self, filters, strides=1, activation=\"relu\", **kwargs):\n"
                                 "        super().__init__(**kwargs)",
                                 "def __init__(self, filters, strides=1, activation=\"relu\"):\n"
                                 "        super().__init__()"),
         words=("from_config", "**kwargs")),
    # ------------------------------------------------------------------ build_resnet34
    model("fifteen_units", (SCHEDULE, SCHEDULE.replace("(256, 6)", "(256, 5)")),
          words=("expected 16 residual units, found 15", "wrong filter schedule")),
    model("wrong_filter_schedule", (SCHEDULE, SCHEDULE.replace("(512, 3)", "(1024, 3)")),
          words=("unit 14 (first of the 512-filter stage) has 1024 filters, expected 512",)),
    model("stride_2_at_the_first_stage", (UNIT_STRIDES, "strides=2 if unit == 0 else 1"),
          words=("unit 1 (first of the 64-filter stage) has strides 2, expected 1",)),
    model("no_stride_2_anywhere", (UNIT_STRIDES, "strides=1"),
          words=("unit 4 (first of the 128-filter stage) has strides 1, expected 2",)),
    model("every_unit_strided", (UNIT_STRIDES, "strides=1 if stage == 0 else 2"),
          words=("unit 5 (unit 2 of the 128-filter stage) has strides 2, expected 1",)),
    model("unit_stride_in_one_direction", (UNIT_STRIDES, "strides=(2, 1) if stage > 0 and unit == 0 else 1"),
          words=("unit 4 (first of the 128-filter stage) has strides (2, 1)", "one direction only")),
    model("maxpool_padding_valid", (POOL, POOL.replace('"same"', '"valid"')),
          words=("max pooling has padding='valid', expected 'same'", "55x55")),
    model("no_max_pooling", ("    " + POOL + "\n", ""), words=("no max pooling",)),
    model("stem_conv_with_bias", (STEM, STEM.replace(", use_bias=False", "")),
          words=("the stem conv has a bias: expected use_bias=False (BatchNorm follows)",)),
    model("stem_relu_inside_the_conv", (STEM, STEM.replace("use_bias=False", 'use_bias=False, activation="relu"')),
          ('    x = layers.Activation("relu")(x)\n', ""), words=("the stem conv applies 'relu' itself",)),
    model("stem_without_batchnorm", (STEM_BN, ""), words=("BatchNorm missing in the stem",)),
    model("stem_stride_1", (STEM, STEM.replace("strides=2", "strides=1")),
          words=("the stem conv has strides=(1, 1), expected (2, 2)",)),
    model("stem_kernel_3x3", (STEM, STEM.replace("(64, 7,", "(64, 3,")),
          words=("the stem conv has kernel_size=(3, 3), expected (7, 7)",)),
    model("relu_after_every_unit", (UNIT_CALL, UNIT_CALL + '\n            x = layers.Activation("relu")(x)'),
          words=("unexpected layers between the residual units", "already ends with its activation")),
    model("flatten_instead_of_global_pooling", (HEAD, "x = layers.Flatten()(x)"), words=("no GlobalAveragePooling2D",)),
    model("dropout_in_the_head", (HEAD, HEAD + "\n    x = layers.Dropout(0.5)(x)"),
          words=("unexpected layers in the head: Dropout",)),
    model("no_softmax", (DENSE, "outputs = layers.Dense(classes)(x)"), words=("expected: 'softmax'",)),
]

HARD_CODED = [
    # Only the activations of the visible cases are looked up by name: a hidden 'tanh' stays a string.
    HardCoded("activation_table_of_the_visible_names", "ResidualUnit",
              edit(UNIT, (ACTIVATION, 'self.activation = {"relu": keras.activations.relu, '
                                      '"elu": keras.activations.elu}.get(activation, activation)'))),
    # The visible call asks for 10 classes and 224x224x3 images: these answers ignore one argument each.
    HardCoded("fixed_number_of_classes", "build_resnet34", edit(BUILD, (DENSE, DENSE.replace("(classes,", "(10,")))),
    HardCoded("fixed_input_shape", "build_resnet34",
              edit(BUILD, ("keras.Input(shape=input_shape)", "keras.Input(shape=(224, 224, 3))"))),
]


# ============================================================================ other correct answers
UNIT_HEAD = src('''
    class ResidualUnit(layers.Layer):
        def __init__(self, filters, strides=1, activation="relu", **kwargs):
            super().__init__(**kwargs)
            self.filters, self.strides = filters, strides
            self.activation = keras.activations.get(activation)
''')
UNIT_CONFIG = textwrap.indent(src('''
    def get_config(self):
        config = super().get_config()
        config.update(filters=self.filters, strides=self.strides,
                      activation=keras.activations.serialize(self.activation))
        return config
'''), " " * 4)


def unit_class(init: str, methods: str, decorator: str = "") -> str:
    """A ResidualUnit made of UNIT_HEAD, more ``__init__`` lines, other methods and UNIT_CONFIG."""
    return (decorator + UNIT_HEAD + textwrap.indent(src(init), " " * 8) + "\n"
            + textwrap.indent(src(methods), " " * 4) + "\n" + UNIT_CONFIG)


ALTERNATIVES = [
    # Layers kept in two lists, applied in loops; no registration (custom_objects is used to reload).
    Alternative("layers_in_lists", "ResidualUnit", unit_class('''
        self.main_layers = [
            layers.Conv2D(filters, 3, strides=strides, padding="same", use_bias=False),
            layers.BatchNormalization(),
            layers.Activation(self.activation),
            layers.Conv2D(filters, 3, strides=1, padding="same", use_bias=False),
            layers.BatchNormalization(),
        ]
        self.skip_layers = []
        if strides > 1:
            self.skip_layers = [layers.Conv2D(filters, 1, strides=strides, padding="same", use_bias=False),
                                layers.BatchNormalization()]
    ''', '''
        def call(self, inputs, training=None):
            main, skip = inputs, inputs
            for layer in self.main_layers:
                main = layer(main, training=training)
            for layer in self.skip_layers:
                skip = layer(skip, training=training)
            return self.activation(main + skip)
    ''')),
    # A Sequential main path and shortcut created in build(), keras.ops.add, registered without a package.
    Alternative("sequential_paths_built_in_build", "ResidualUnit", unit_class("", '''
        def build(self, input_shape):
            conv = lambda size, stride: layers.Conv2D(self.filters, size, strides=stride, padding="same",
                                                      use_bias=False)
            self.main = keras.Sequential([conv(3, self.strides), layers.BatchNormalization(),
                                          layers.Activation(self.activation), conv(3, 1),
                                          layers.BatchNormalization()])
            self.shortcut = None
            if self.strides > 1:
                self.shortcut = keras.Sequential([conv(1, self.strides), layers.BatchNormalization()])
                self.shortcut.build(input_shape)
            self.main.build(input_shape)

        def call(self, inputs, training=None):
            skip = inputs if self.shortcut is None else self.shortcut(inputs, training=training)
            return self.activation(keras.ops.add(self.main(inputs, training=training), skip))
    ''', decorator="@keras.saving.register_keras_serializable()\n")),
    # Shortcut created first, tuples for kernel sizes and strides, Add and Activation layers, training reaching
    # the BatchNorms through Keras' call context (Keras 3) rather than explicitly.
    Alternative("add_layer_shortcut_first", "ResidualUnit", unit_class('''
        self.has_projection = strides != 1
        if self.has_projection:
            self.skip_conv = layers.Conv2D(filters, (1, 1), strides=(strides, strides), use_bias=False,
                                           padding="same")
            self.skip_norm = layers.BatchNormalization(axis=-1)
        self.conv_a = layers.Conv2D(filters, (3, 3), strides=(strides, strides), use_bias=False, padding="same")
        self.norm_a = layers.BatchNormalization(axis=-1)
        self.act_a = layers.Activation(self.activation)
        self.conv_b = layers.Conv2D(filters, (3, 3), use_bias=False, padding="same")
        self.norm_b = layers.BatchNormalization(axis=-1)
        self.add = layers.Add()
        self.act_out = layers.Activation(self.activation)
    ''', '''
        def call(self, inputs):
            skip = self.skip_norm(self.skip_conv(inputs)) if self.has_projection else inputs
            main = self.norm_b(self.conv_b(self.act_a(self.norm_a(self.conv_a(inputs)))))
            return self.act_out(self.add([main, skip]))
    ''')),
    # keyword kernel sizes, BatchNormalization(axis=3), the shortcut always a Sequential (an Identity layer when
    # strides == 1), training=False as the default of call().
    Alternative("axis_3_and_identity_sequential", "ResidualUnit", unit_class('''
        self.conv1 = layers.Conv2D(filters, kernel_size=3, strides=strides, padding="same", use_bias=False)
        self.bn1 = layers.BatchNormalization(axis=3)
        self.conv2 = layers.Conv2D(filters, kernel_size=3, padding="same", use_bias=False)
        self.bn2 = layers.BatchNormalization(axis=3)
        self.shortcut = keras.Sequential(
            [layers.Conv2D(filters, kernel_size=1, strides=strides, padding="same", use_bias=False),
             layers.BatchNormalization(axis=3)] if strides > 1 else [layers.Identity()])
    ''', '''
        def call(self, inputs, training=False):
            z = self.activation(self.bn1(self.conv1(inputs), training=training))
            z = self.bn2(self.conv2(z), training=training)
            return self.activation(z + self.shortcut(inputs, training=training))
    ''')),
    # Sequential, a previous-filters loop, ReLU() and MaxPooling2D classes, Flatten after the pooling.
    Alternative("sequential_previous_filters", "build_resnet34", src('''
        def build_resnet34(input_shape=(224, 224, 3), classes=10):
            model = keras.Sequential([
                keras.Input(shape=input_shape),
                layers.Conv2D(64, (7, 7), strides=(2, 2), padding="same", use_bias=False),
                layers.BatchNormalization(),
                layers.ReLU(),
                layers.MaxPooling2D(pool_size=(3, 3), strides=(2, 2), padding="same"),
            ])
            previous = 64
            for filters in [64] * 3 + [128] * 4 + [256] * 6 + [512] * 3:
                model.add(ResidualUnit(filters, strides=1 if filters == previous else 2))
                previous = filters
            model.add(layers.GlobalAveragePooling2D())
            model.add(layers.Flatten())
            model.add(layers.Dense(classes, activation="softmax"))
            return model
    ''')),
    # The stem as a nested Sequential model, positional strides, units listed per stage.
    Alternative("nested_stem_positional_strides", "build_resnet34", src('''
        def build_resnet34(input_shape=(224, 224, 3), classes=10):
            stem = keras.Sequential([layers.Conv2D(64, 7, 2, padding="same", use_bias=False),
                                     layers.BatchNormalization(), layers.Activation("relu"),
                                     layers.MaxPool2D(3, 2, padding="same")], name="stem")
            units = []
            for filters, count in zip([64, 128, 256, 512], [3, 4, 6, 3]):
                units.append(ResidualUnit(filters, 1 if filters == 64 else 2, "relu"))
                units += [ResidualUnit(filters, 1) for _ in range(count - 1)]
            inputs = keras.Input(input_shape)
            x = stem(inputs)
            for unit in units:
                x = unit(x)
            x = layers.GlobalAvgPool2D()(x)
            return keras.Model(inputs, layers.Dense(classes, activation="softmax")(x))
    ''')),
    # The Keras-applications stem: explicit zero padding and 'valid' convolution and pooling (same output sizes
    # for every input size, same weights), then the units written out stage by stage.
    Alternative("zero_padding_stem", "build_resnet34", src('''
        def build_resnet34(input_shape=(224, 224, 3), classes=10):
            inputs = keras.Input(shape=input_shape)
            x = layers.ZeroPadding2D(3)(inputs)
            x = layers.Conv2D(64, 7, strides=2, use_bias=False)(x)
            x = layers.BatchNormalization()(x)
            x = layers.ReLU()(x)
            x = layers.ZeroPadding2D(1)(x)
            x = layers.MaxPooling2D(3, strides=2)(x)
            for _ in range(3):
                x = ResidualUnit(64)(x)
            for filters, count in ((128, 4), (256, 6), (512, 3)):
                x = ResidualUnit(filters, strides=2)(x)
                for _ in range(count - 1):
                    x = ResidualUnit(filters)(x)
            x = layers.GlobalAveragePooling2D()(x)
            return keras.Model(inputs, layers.Dense(classes, activation="softmax")(x))
    ''')),
]

CLASS = {
    "student": ["sequential_paths_built_in_build", "stride_2_at_the_first_stage"],
}
