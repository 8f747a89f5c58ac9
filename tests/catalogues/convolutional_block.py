"""Notebook 03 (convolutional block): the catalogue of answers (format: ``tests/catalogue.py``)."""
from __future__ import annotations

from catalogue import Alternative, HardCoded, Mistake, edit
from catalogues.identity_block import main_path_mistakes

EXERCISE = "convolutional_block"

HEADER = '''def convolutional_block(X, f, filters, stage, block, s=2, initializer=glorot_uniform):
    conv_name_base = "res" + str(stage) + block + "_branch"
    bn_name_base = "bn" + str(stage) + block + "_branch"
    F1, F2, F3 = filters
    X_shortcut = X
'''
FIRST = '''    X = Conv2D(F1, (1, 1), strides=(s, s), padding="valid", name=conv_name_base + "2a",
               kernel_initializer=initializer(seed=0))(X)
    X = BatchNormalization(axis=3, name=bn_name_base + "2a")(X)
    X = Activation("relu")(X)
'''
SECOND = '''    X = Conv2D(F2, (f, f), strides=(1, 1), padding="same", name=conv_name_base + "2b",
               kernel_initializer=initializer(seed=0))(X)
    X = BatchNormalization(axis=3, name=bn_name_base + "2b")(X)
    X = Activation("relu")(X)
'''
THIRD = '''    X = Conv2D(F3, (1, 1), strides=(1, 1), padding="valid", name=conv_name_base + "2c",
               kernel_initializer=initializer(seed=0))(X)
    X = BatchNormalization(axis=3, name=bn_name_base + "2c")(X)
'''
SHORTCUT = '''    X_shortcut = Conv2D(F3, (1, 1), strides=(s, s), padding="valid", name=conv_name_base + "1",
                        kernel_initializer=initializer(seed=0))(X_shortcut)
    X_shortcut = BatchNormalization(axis=3, name=bn_name_base + "1")(X_shortcut)
'''
END = '''    X = Add()([X, X_shortcut])
    X = Activation("relu")(X)
    return X
'''
CORRECT = HEADER + FIRST + SECOND + THIRD + SHORTCUT + END

A_STRIDE = 'X = Conv2D(F1, (1, 1), strides=(s, s)'
B_STRIDE = 'X = Conv2D(F2, (f, f), strides=(1, 1)'
SC_CONV = 'X_shortcut = Conv2D(F3, (1, 1), strides=(s, s)'


def variant(*edits: tuple[str, str]) -> str:
    """The correct answer with some text replaced (each edit must apply)."""
    return edit(CORRECT, *edits)


def mistake(id: str, code: str, *words: str) -> Mistake:
    return Mistake(id, EXERCISE, code, words)


# ============================================================================ wrong answers
MISTAKES = main_path_mistakes(EXERCISE, CORRECT, FIRST, SECOND) + [
    mistake("stride_on_middle_conv", variant((A_STRIDE, 'X = Conv2D(F1, (1, 1), strides=(1, 1)'),
                                             (B_STRIDE, 'X = Conv2D(F2, (f, f), strides=(s, s)')),
            "stride 2 on res1a_branch2b (the fxf conv); the stride belongs on the first 1x1 conv res1a_branch2a"),
    mistake("shortcut_without_batchnorm",
            variant(('    X_shortcut = BatchNormalization(axis=3, name=bn_name_base + "1")(X_shortcut)\n', '')),
            "shortcut has no BatchNorm (bn1a_branch1 missing)"),
    mistake("shortcut_stride_1", variant((SC_CONV, 'X_shortcut = Conv2D(F3, (1, 1), strides=(1, 1)')),
            "shortcut conv has stride 1, expected s=2"),
    mistake("no_stride_in_main_path", variant((A_STRIDE, 'X = Conv2D(F1, (1, 1), strides=(1, 1)')),
            "res1a_branch2a has stride 1, expected s=2"),
    mistake("stride_twice_in_main_path", variant((B_STRIDE, 'X = Conv2D(F2, (f, f), strides=(s, s)')),
            "res1a_branch2b has stride 2, expected 1"),
    mistake("middle_conv_1x1", variant(("Conv2D(F2, (f, f)", "Conv2D(F2, (1, 1)")),
            "res1a_branch2b has a 1x1 kernel, expected fxf = 2x2"),
    mistake("F2_F3_swapped", variant(("Conv2D(F2, (f, f)", "Conv2D(F3, (f, f)"),
                                     ('X = Conv2D(F3, (1, 1), strides=(1, 1)', 'X = Conv2D(F2, (1, 1), strides=(1, 1)')),
            "F2 and F3 swapped: res1a_branch2b has 6 filters, expected 4"),
    mistake("shortcut_layer_name",
            variant(('name=conv_name_base + "1"', 'name="res" + str(stage) + block + "_shortcut"')),
            "layer named 'res1a_shortcut', expected 'res1a_branch1'"),
    mistake("shortcut_with_F1_filters", variant((SC_CONV, 'X_shortcut = Conv2D(F1, (1, 1), strides=(s, s)')),
            "res1a_branch1 has 2 filters, expected F3 = 6"),
    mistake("relu_on_shortcut", variant(('(X_shortcut)\n    X = Add()',
                                         '(X_shortcut)\n    X_shortcut = Activation("relu")(X_shortcut)\n    X = Add()')),
            "a ReLU follows bn1a_branch1"),
    mistake("identity_shortcut", variant((SHORTCUT, '')), "the shortcut has no convolution"),
    mistake("shortcut_fxf_kernel", variant((SC_CONV, 'X_shortcut = Conv2D(F3, (f, f), strides=(s, s)')),
            "res1a_branch1 has a 2x2 kernel, expected 1x1"),
    mistake("shortcut_ignores_initializer",
            variant(('name=conv_name_base + "1",\n                        kernel_initializer=initializer(seed=0)',
                     'name=conv_name_base + "1",\n                        kernel_initializer=glorot_uniform(seed=0)')),
            "res1a_branch1 ignores the initializer argument"),
    # was hidden-only; the visible demo now leaves s at its default
    mistake("default_stride_1", variant(("block, s=2, initializer", "block, s=1, initializer")),
            "strides of res1a_branch2a", "your function's default is s=1: the default must be s=2"),
    # new, shown by the visible s=1 case
    mistake("stride_hard_coded_2", variant((A_STRIDE, 'X = Conv2D(F1, (1, 1), strides=(2, 2)'),
                                           (SC_CONV, 'X_shortcut = Conv2D(F3, (1, 1), strides=(2, 2)')),
            "res2a_branch2a has stride 2, expected s=1"),
    mistake("hard_coded_names", variant(('conv_name_base = "res" + str(stage) + block + "_branch"',
                                         'conv_name_base = "res1a_branch"')),
            "layer named 'res1a_branch2a', expected 'res2a_branch2a'"),
    mistake("stride_in_one_direction", variant((A_STRIDE, 'X = Conv2D(F1, (1, 1), strides=(s, 1)')),
            "strides of res1a_branch2a", "a stride in one direction only"),
    mistake("batchnorm_training_true_on_shortcut",
            variant(('name=bn_name_base + "1")(X_shortcut)', 'name=bn_name_base + "1")(X_shortcut, training=True)')),
            "bn1a_branch1 is called with training=True"),
]

# ============================================================================ special-casing the visible inputs
HARD_CODED = [
    # both visible cases have f=2
    HardCoded("middle_kernel_2x2", EXERCISE, variant(("Conv2D(F2, (f, f)", "Conv2D(F2, (2, 2)"))),
]

# ============================================================================ other correct answers
ALTERNATIVES = [
    # shortcut first, layers.add + ReLU() layers, positional arguments
    Alternative("shortcut_first_add_function_positional", EXERCISE, HEADER + '''
    X_shortcut = Conv2D(F3, (1, 1), (s, s), "valid", name=conv_name_base + "1", kernel_initializer=initializer(seed=0))(X)
    X_shortcut = BatchNormalization(axis=3, name=bn_name_base + "1")(X_shortcut)
    X = Conv2D(F1, (1, 1), (s, s), "valid", name=conv_name_base + "2a", kernel_initializer=initializer(seed=0))(X)
    X = layers.ReLU()(BatchNormalization(axis=3, name=bn_name_base + "2a")(X))
    X = Conv2D(F2, (f, f), (1, 1), "same", name=conv_name_base + "2b", kernel_initializer=initializer(seed=0))(X)
    X = layers.ReLU()(BatchNormalization(axis=3, name=bn_name_base + "2b")(X))
    X = Conv2D(F3, (1, 1), (1, 1), "valid", name=conv_name_base + "2c", kernel_initializer=initializer(seed=0))(X)
    X = BatchNormalization(axis=3, name=bn_name_base + "2c")(X)
    return layers.ReLU()(layers.add([X_shortcut, X]))
'''),
    # tf.keras.layers, the + operator, keras.activations.relu through Activation, int kernel sizes and strides
    Alternative("tf_keras_plus_operator", EXERCISE, HEADER + '''
    L = tf.keras.layers
    X = L.Conv2D(F1, 1, strides=s, name=conv_name_base + "2a", kernel_initializer=initializer(seed=0))(X)
    X = L.Activation(keras.activations.relu)(L.BatchNormalization(axis=3, name=bn_name_base + "2a")(X))
    X = L.Conv2D(F2, f, padding="same", name=conv_name_base + "2b", kernel_initializer=initializer(seed=0))(X)
    X = L.Activation(keras.activations.relu)(L.BatchNormalization(axis=3, name=bn_name_base + "2b")(X))
    X = L.Conv2D(F3, 1, name=conv_name_base + "2c", kernel_initializer=initializer(seed=0))(X)
    X = L.BatchNormalization(axis=3, name=bn_name_base + "2c")(X)
    X_shortcut = L.Conv2D(F3, 1, strides=s, name=conv_name_base + "1", kernel_initializer=initializer(seed=0))(X_shortcut)
    X_shortcut = L.BatchNormalization(axis=3, name=bn_name_base + "1")(X_shortcut)
    return L.Activation("relu")(X + X_shortcut)
'''),
    # keras.ops.add / keras.ops.relu, a helper function, axis=-1
    Alternative("ops_add_helper", EXERCISE, HEADER + '''
    def component(X, filters, size, stride, padding, branch, relu):
        X = keras.layers.Conv2D(filters, kernel_size=size, strides=stride, padding=padding,
                                name=conv_name_base + branch, kernel_initializer=initializer(seed=0))(X)
        X = keras.layers.BatchNormalization(axis=-1, name=bn_name_base + branch)(X)
        return keras.ops.relu(X) if relu else X

    X = component(X, F1, 1, s, "valid", "2a", True)
    X = component(X, F2, f, 1, "same", "2b", True)
    X = component(X, F3, 1, 1, "valid", "2c", False)
    X_shortcut = component(X_shortcut, F3, 1, s, "valid", "1", False)
    return keras.ops.relu(keras.ops.add(X, X_shortcut))
'''),
    # one seeded initializer shared by the four convolutions, 'same' padding on the 1x1 convolutions (a 1x1
    # kernel pads nothing, whatever the stride), Activation(tf.nn.relu), no bias
    Alternative("shared_initializer_same_padding_tf_relu", EXERCISE, HEADER + '''
    init = initializer(seed=0)
    conv = lambda F, k, stride, branch: Conv2D(F, k, strides=stride, padding="same", use_bias=False,
                                               name=conv_name_base + branch, kernel_initializer=init)
    bn = lambda branch: BatchNormalization(axis=-1, name=bn_name_base + branch)
    X_shortcut = bn("1")(conv(F3, 1, s, "1")(X_shortcut))
    X = Activation(tf.nn.relu)(bn("2a")(conv(F1, 1, s, "2a")(X)))
    X = Activation(tf.nn.relu)(bn("2b")(conv(F2, f, 1, "2b")(X)))
    X = bn("2c")(conv(F3, 1, 1, "2c")(X))
    return Activation(tf.nn.relu)(Add()([X, X_shortcut]))
'''),
]

# ============================================================================ the one real nbgrader run
CLASS = {
    "student": ["stride_on_middle_conv"],
}
