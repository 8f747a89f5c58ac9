"""Notebook 02 (identity block): the mistake catalogue, other correct answers, and one real nbgrader run."""
from __future__ import annotations

import grading
from course_utils.checks import identity_block as checks

ID = "02_identity_block"
EXERCISE = "identity_block"

HEADER = '''def identity_block(X, f, filters, stage, block, initializer=glorot_uniform):
    conv_name_base = "res" + str(stage) + block + "_branch"
    bn_name_base = "bn" + str(stage) + block + "_branch"
    F1, F2, F3 = filters
    X_shortcut = X
'''
FIRST = '''    X = Conv2D(filters=F1, kernel_size=(1, 1), strides=(1, 1), padding="valid",
               name=conv_name_base + "2a", kernel_initializer=initializer(seed=0))(X)
    X = BatchNormalization(axis=3, name=bn_name_base + "2a")(X)
    X = Activation("relu")(X)
'''
SECOND = '''    X = Conv2D(filters=F2, kernel_size=(f, f), strides=(1, 1), padding="same",
               name=conv_name_base + "2b", kernel_initializer=initializer(seed=0))(X)
    X = BatchNormalization(axis=3, name=bn_name_base + "2b")(X)
    X = Activation("relu")(X)
'''
THIRD = '''    X = Conv2D(filters=F3, kernel_size=(1, 1), strides=(1, 1), padding="valid",
               name=conv_name_base + "2c", kernel_initializer=initializer(seed=0))(X)
    X = BatchNormalization(axis=3, name=bn_name_base + "2c")(X)
'''
END = '''    X = Add()([X, X_shortcut])
    X = Activation("relu")(X)
    return X
'''
CORRECT = HEADER + FIRST + SECOND + THIRD + END


def variant(*edits: tuple[str, str]) -> str:
    """The correct answer with some text replaced (each edit must apply)."""
    source = CORRECT
    for old, new in edits:
        assert old in source, old
        source = source.replace(old, new, 1)
    return source


# (id, wrong answer, words the message must contain, run the hidden cases instead of the visible one)
MISTAKES = [
    ("no_final_relu", variant(('    X = Add()([X, X_shortcut])\n    X = Activation("relu")(X)\n',
                               '    X = Add()([X, X_shortcut])\n')),
     "ReLU missing at the end of the block (after the Add)", False),
    ("relu_after_third_bn", variant(('name=bn_name_base + "2c")(X)\n',
                                     'name=bn_name_base + "2c")(X)\n    X = Activation("relu")(X)\n')),
     "a ReLU follows bn1a_branch2c: the third BatchNorm must feed the Add directly", False),
    ("shortcut_added_after_final_relu",
     variant(('    X = Add()([X, X_shortcut])\n    X = Activation("relu")(X)\n',
              '    X = Activation("relu")(X)\n    X = Add()([X, X_shortcut])\n')),
     "the shortcut is added after the final ReLU", False),
    ("valid_padding_middle_conv", variant(('kernel_size=(f, f), strides=(1, 1), padding="same"',
                                           'kernel_size=(f, f), strides=(1, 1), padding="valid"')),
     "res1a_branch2b uses padding 'valid', expected 'same'", False),
    ("middle_conv_1x1", variant(("kernel_size=(f, f)", "kernel_size=(1, 1)")),
     "res1a_branch2b has a 1x1 kernel, expected fxf = 2x2", False),
    ("F2_F3_swapped", variant(("filters=F2,", "filters=F3,"), ("filters=F3, kernel_size=(1, 1), strides=(1, 1), "
                                                               'padding="valid",\n               name=conv_name_base + "2c"',
                                                               "filters=F2, kernel_size=(1, 1), strides=(1, 1), "
                                                               'padding="valid",\n               name=conv_name_base + "2c"')),
     "F2 and F3 swapped: res1a_branch2b has 6 filters, expected 4", False),
    ("batchnorm_axis_1", variant(('BatchNormalization(axis=3, name=bn_name_base + "2b")',
                                  'BatchNormalization(axis=1, name=bn_name_base + "2b")')),
     "BatchNormalization on axis 1, expected axis 3 (channels)", False),
    ("second_batchnorm_missing", variant(('    X = BatchNormalization(axis=3, name=bn_name_base + "2b")(X)\n', '')),
     "bn1a_branch2b is missing", False),
    ("layer_name_without_branch", variant(('name=conv_name_base + "2a"', 'name="res" + str(stage) + block + "_2a"')),
     "layer named 'res1a_2a', expected 'res1a_branch2a'", False),
    ("hard_coded_names", variant(('conv_name_base = "res" + str(stage) + block + "_branch"',
                                  'conv_name_base = "res1a_branch"')),
     "layer named 'res1a_branch2a', expected 'res3c_branch2a'", True),
    ("shortcut_from_main_path", variant((FIRST, FIRST + "    X_shortcut = X\n")),
     "the shortcut starts from the main path instead of the block input", False),
    ("no_skip_connection", variant(('    X = Add()([X, X_shortcut])\n', '')),
     "the shortcut is never added", False),
    ("relu_before_batchnorm", variant(('    X = BatchNormalization(axis=3, name=bn_name_base + "2a")(X)\n'
                                       '    X = Activation("relu")(X)\n',
                                       '    X = Activation("relu")(X)\n'
                                       '    X = BatchNormalization(axis=3, name=bn_name_base + "2a")(X)\n')),
     "the ReLU comes before bn1a_branch2a", False),
    ("relu_missing_after_first_bn", variant((FIRST, FIRST.replace('    X = Activation("relu")(X)\n', ''))),
     "ReLU missing after bn1a_branch2a", False),
    ("ignores_initializer_argument", variant(('name=conv_name_base + "2b", kernel_initializer=initializer(seed=0)',
                                              'name=conv_name_base + "2b", kernel_initializer=glorot_uniform(seed=0)')),
     "res1a_branch2b ignores the initializer argument", False),
    ("initializer_without_seed", variant(('name=conv_name_base + "2c", kernel_initializer=initializer(seed=0)',
                                          'name=conv_name_base + "2c", kernel_initializer=initializer()')),
     "res1a_branch2c uses initializer(seed=None), expected initializer(seed=0)", False),
    ("conv_on_identity_shortcut", variant(("    X_shortcut = X\n",
                                           "    X_shortcut = Conv2D(F3, (1, 1), name=conv_name_base + '1')(X)\n"
                                           "    X_shortcut = BatchNormalization(axis=3, name=bn_name_base + '1')(X_shortcut)\n")),
     "the identity block adds the input as it is", False),
    ("relu_inside_last_conv", variant(('padding="valid",\n               name=conv_name_base + "2c"',
                                       'padding="valid", activation="relu",\n               name=conv_name_base + "2c"')),
     "res1a_branch2c has activation='relu' built in", False),
    ("stride_2_in_identity_block", variant(('filters=F1, kernel_size=(1, 1), strides=(1, 1)',
                                            'filters=F1, kernel_size=(1, 1), strides=(2, 2)')),
     "res1a_branch2a has stride 2, expected 1", False),
    ("default_random_uniform", variant(("initializer=glorot_uniform):", "initializer=keras.initializers.RandomUniform):")),
     "the default must be initializer=glorot_uniform", False),
    ("returns_nothing", variant(("    return X\n", "")), "return X", False),
]

ALTERNATIVES = {
    # layers.add + ReLU() layers, positional arguments
    "add_function_relu_layer_positional": HEADER + '''
    X = Conv2D(F1, (1, 1), (1, 1), "valid", name=conv_name_base + "2a", kernel_initializer=initializer(seed=0))(X)
    X = BatchNormalization(axis=3, name=bn_name_base + "2a")(X)
    X = layers.ReLU()(X)
    X = Conv2D(F2, (f, f), (1, 1), "same", name=conv_name_base + "2b", kernel_initializer=initializer(seed=0))(X)
    X = BatchNormalization(axis=3, name=bn_name_base + "2b")(X)
    X = layers.ReLU()(X)
    X = Conv2D(F3, (1, 1), (1, 1), "valid", name=conv_name_base + "2c", kernel_initializer=initializer(seed=0))(X)
    X = BatchNormalization(axis=3, name=bn_name_base + "2c")(X)
    X = layers.add([X, X_shortcut])
    X = layers.ReLU()(X)
    return X
''',
    # tf.keras.layers, the + operator, keras.activations.relu through Activation
    "tf_keras_plus_operator": HEADER + '''
    L = tf.keras.layers
    X = L.Conv2D(F1, 1, padding="valid", name=conv_name_base + "2a", kernel_initializer=initializer(seed=0))(X)
    X = L.Activation(keras.activations.relu)(L.BatchNormalization(axis=3, name=bn_name_base + "2a")(X))
    X = L.Conv2D(F2, f, padding="same", name=conv_name_base + "2b", kernel_initializer=initializer(seed=0))(X)
    X = L.Activation(keras.activations.relu)(L.BatchNormalization(axis=3, name=bn_name_base + "2b")(X))
    X = L.Conv2D(F3, 1, name=conv_name_base + "2c", kernel_initializer=initializer(seed=0))(X)
    X = L.BatchNormalization(axis=3, name=bn_name_base + "2c")(X)
    X = X_shortcut + X
    return L.Activation("relu")(X)
''',
    # keras.ops.add / keras.ops.relu, a helper function and a loop, axis=-1
    "ops_add_helper_loop": HEADER + '''
    def component(X, filters, size, padding, branch, relu):
        X = keras.layers.Conv2D(filters, kernel_size=size, padding=padding, name=conv_name_base + branch,
                                kernel_initializer=initializer(seed=0))(X)
        X = keras.layers.BatchNormalization(axis=-1, name=bn_name_base + branch)(X)
        return keras.ops.relu(X) if relu else X

    for filters_, size, padding, branch in [(F1, 1, "valid", "2a"), (F2, f, "same", "2b"), (F3, 1, "valid", "2c")]:
        X = component(X, filters_, size, padding, branch, relu=branch != "2c")
    return keras.ops.relu(keras.ops.add(X, X_shortcut))
''',
    # the classic exercise's style: glorot_uniform imported under its TF name, Add then ReLU layer
    "add_layer_keyword_style": CORRECT.replace('Activation("relu")', "Activation(activation='relu')"),
}


# --------------------------------------------------------------------------- the catalogue and the stub

globals().update(grading.catalogue_tests(ID, EXERCISE, checks.check_identity_block, MISTAKES, ALTERNATIVES))


# --------------------------------------------------------------------------- one real nbgrader run

STUDENTS = {
    "alternative": {EXERCISE: ALTERNATIVES["tf_keras_plus_operator"]},
    "mistake_relu": {EXERCISE: dict((m[0], m[1]) for m in MISTAKES)["relu_after_third_bn"]},
    "mistake_swap": {EXERCISE: dict((m[0], m[1]) for m in MISTAKES)["F2_F3_swapped"]},
}
HINTS = {"mistake_relu": {EXERCISE: "a ReLU follows bn1a_branch2c"}, "mistake_swap": {EXERCISE: "F2 and F3 swapped"}}

globals().update(grading.nbgrader_tests(ID, {EXERCISE: 10.0}, STUDENTS, HINTS))
