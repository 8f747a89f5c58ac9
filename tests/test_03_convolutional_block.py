"""Notebook 03 (convolutional block): the mistake catalogue, other correct answers, and one real nbgrader run."""
from __future__ import annotations

import grading
from course_utils.checks import convolutional_block as checks

ID = "03_convolutional_block"
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


def variant(*edits: tuple[str, str]) -> str:
    """The correct answer with some text replaced (each edit must apply)."""
    source = CORRECT
    for old, new in edits:
        assert old in source, old
        source = source.replace(old, new, 1)
    return source


A_STRIDE = 'X = Conv2D(F1, (1, 1), strides=(s, s)'
B_STRIDE = 'X = Conv2D(F2, (f, f), strides=(1, 1)'
SC_CONV = 'X_shortcut = Conv2D(F3, (1, 1), strides=(s, s)'
FINAL = '    X = Add()([X, X_shortcut])\n    X = Activation("relu")(X)\n'

# (id, wrong answer, words the message must contain, run the hidden cases instead of the visible one)
MISTAKES = [
    ("stride_on_middle_conv", variant((A_STRIDE, 'X = Conv2D(F1, (1, 1), strides=(1, 1)'),
                                      (B_STRIDE, 'X = Conv2D(F2, (f, f), strides=(s, s)')),
     "stride 2 on res1a_branch2b (the fxf conv); the stride belongs on the first 1x1 conv res1a_branch2a", False),
    ("shortcut_without_batchnorm", variant(('    X_shortcut = BatchNormalization(axis=3, name=bn_name_base + "1")(X_shortcut)\n', '')),
     "shortcut has no BatchNorm (bn1a_branch1 missing)", False),
    ("shortcut_stride_1", variant((SC_CONV, 'X_shortcut = Conv2D(F3, (1, 1), strides=(1, 1)')),
     "shortcut conv has stride 1, expected s=2", False),
    ("shortcut_from_main_path", variant((FIRST, FIRST + "    X_shortcut = X\n")),
     "the shortcut starts from the main path instead of the block input", False),
    ("no_stride_in_main_path", variant((A_STRIDE, 'X = Conv2D(F1, (1, 1), strides=(1, 1)')),
     "res1a_branch2a has stride 1, expected s=2", False),
    ("stride_twice_in_main_path", variant((B_STRIDE, 'X = Conv2D(F2, (f, f), strides=(s, s)')),
     "res1a_branch2b has stride 2, expected 1", False),
    ("no_final_relu", variant((FINAL, '    X = Add()([X, X_shortcut])\n')),
     "ReLU missing at the end of the block (after the Add)", False),
    ("relu_after_third_bn", variant(('name=bn_name_base + "2c")(X)\n',
                                     'name=bn_name_base + "2c")(X)\n    X = Activation("relu")(X)\n')),
     "a ReLU follows bn1a_branch2c: the third BatchNorm must feed the Add directly", False),
    ("shortcut_added_after_final_relu", variant((FINAL, '    X = Activation("relu")(X)\n    X = Add()([X, X_shortcut])\n')),
     "the shortcut is added after the final ReLU", False),
    ("valid_padding_middle_conv", variant(('strides=(1, 1), padding="same"', 'strides=(1, 1), padding="valid"')),
     "res1a_branch2b uses padding 'valid', expected 'same'", False),
    ("middle_conv_1x1", variant(("Conv2D(F2, (f, f)", "Conv2D(F2, (1, 1)")),
     "res1a_branch2b has a 1x1 kernel, expected fxf = 2x2", False),
    ("F2_F3_swapped", variant(("Conv2D(F2, (f, f)", "Conv2D(F3, (f, f)"),
                              ('X = Conv2D(F3, (1, 1), strides=(1, 1)', 'X = Conv2D(F2, (1, 1), strides=(1, 1)')),
     "F2 and F3 swapped: res1a_branch2b has 6 filters, expected 4", False),
    ("batchnorm_axis_1", variant(('BatchNormalization(axis=3, name=bn_name_base + "2a")',
                                  'BatchNormalization(axis=1, name=bn_name_base + "2a")')),
     "BatchNormalization on axis 1, expected axis 3 (channels)", False),
    ("second_batchnorm_missing", variant(('    X = BatchNormalization(axis=3, name=bn_name_base + "2b")(X)\n', '')),
     "bn1a_branch2b is missing", False),
    ("shortcut_layer_name", variant(('name=conv_name_base + "1"', 'name="res" + str(stage) + block + "_shortcut"')),
     "layer named 'res1a_shortcut', expected 'res1a_branch1'", False),
    ("shortcut_with_F1_filters", variant((SC_CONV, 'X_shortcut = Conv2D(F1, (1, 1), strides=(s, s)')),
     "res1a_branch1 has 2 filters, expected F3 = 6", False),
    ("relu_on_shortcut", variant(('(X_shortcut)\n    X = Add()', '(X_shortcut)\n    X_shortcut = Activation("relu")(X_shortcut)\n    X = Add()')),
     "a ReLU follows bn1a_branch1", False),
    ("identity_shortcut", variant((SHORTCUT, '')),
     "the shortcut has no convolution", False),
    ("shortcut_fxf_kernel", variant((SC_CONV, 'X_shortcut = Conv2D(F3, (f, f), strides=(s, s)')),
     "res1a_branch1 has a 2x2 kernel, expected 1x1", False),
    ("shortcut_ignores_initializer", variant(('name=conv_name_base + "1",\n                        kernel_initializer=initializer(seed=0)',
                                              'name=conv_name_base + "1",\n                        kernel_initializer=glorot_uniform(seed=0)')),
     "res1a_branch1 ignores the initializer argument", False),
    ("default_stride_1", variant(("block, s=2, initializer", "block, s=1, initializer")),
     "res3a_branch2a has stride 1, expected s=2", True),
]

ALTERNATIVES = {
    # shortcut first, layers.add + ReLU() layers, positional arguments
    "shortcut_first_add_function_positional": HEADER + '''
    X_shortcut = Conv2D(F3, (1, 1), (s, s), "valid", name=conv_name_base + "1", kernel_initializer=initializer(seed=0))(X)
    X_shortcut = BatchNormalization(axis=3, name=bn_name_base + "1")(X_shortcut)
    X = Conv2D(F1, (1, 1), (s, s), "valid", name=conv_name_base + "2a", kernel_initializer=initializer(seed=0))(X)
    X = layers.ReLU()(BatchNormalization(axis=3, name=bn_name_base + "2a")(X))
    X = Conv2D(F2, (f, f), (1, 1), "same", name=conv_name_base + "2b", kernel_initializer=initializer(seed=0))(X)
    X = layers.ReLU()(BatchNormalization(axis=3, name=bn_name_base + "2b")(X))
    X = Conv2D(F3, (1, 1), (1, 1), "valid", name=conv_name_base + "2c", kernel_initializer=initializer(seed=0))(X)
    X = BatchNormalization(axis=3, name=bn_name_base + "2c")(X)
    return layers.ReLU()(layers.add([X_shortcut, X]))
''',
    # tf.keras.layers, the + operator, keras.activations.relu through Activation, int kernel sizes and strides
    "tf_keras_plus_operator": HEADER + '''
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
''',
    # keras.ops.add / keras.ops.relu, a helper function, axis=-1
    "ops_add_helper": HEADER + '''
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
''',
}


# --------------------------------------------------------------------------- the catalogue and the stub

globals().update(grading.catalogue_tests(ID, EXERCISE, checks.check_convolutional_block, MISTAKES, ALTERNATIVES))


# --------------------------------------------------------------------------- one real nbgrader run

STUDENTS = {
    "alternative": {EXERCISE: ALTERNATIVES["ops_add_helper"]},
    "mistake_stride": {EXERCISE: dict((m[0], m[1]) for m in MISTAKES)["stride_on_middle_conv"]},
    "mistake_bn": {EXERCISE: dict((m[0], m[1]) for m in MISTAKES)["shortcut_without_batchnorm"]},
}
HINTS = {"mistake_stride": {EXERCISE: "the stride belongs on the first 1x1 conv res1a_branch2a"},
         "mistake_bn": {EXERCISE: "shortcut has no BatchNorm (bn1a_branch1 missing)"}}

globals().update(grading.nbgrader_tests(ID, {EXERCISE: 10.0}, STUDENTS, HINTS))
