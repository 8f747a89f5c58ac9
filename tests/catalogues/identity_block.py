"""Notebook 02 (identity block): the catalogue of answers (format: ``tests/catalogue.py``)."""
from __future__ import annotations

from catalogue import Alternative, HardCoded, Mistake, edit

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
FINAL = '    X = Add()([X, X_shortcut])\n    X = Activation("relu")(X)\n'


def variant(*edits: tuple[str, str]) -> str:
    """The correct answer with some text replaced (each edit must apply)."""
    return edit(CORRECT, *edits)


# ============================================================================ wrong answers


def main_path_mistakes(exercise: str, correct: str, first: str, second: str) -> list[Mistake]:
    """The mistakes of the main path and the Add, the same in notebooks 02 and 03 (both demos: stage 1, block 'a')."""
    def mistake(id: str, edits, *words: str) -> Mistake:
        return Mistake(id, exercise, edit(correct, *edits), words)

    return [
        mistake("no_final_relu", [(FINAL, '    X = Add()([X, X_shortcut])\n')],
                "ReLU missing at the end of the block (after the Add)"),
        mistake("relu_after_third_bn", [('name=bn_name_base + "2c")(X)\n',
                                         'name=bn_name_base + "2c")(X)\n    X = Activation("relu")(X)\n')],
                "a ReLU follows bn1a_branch2c: the third BatchNorm must feed the Add directly"),
        mistake("shortcut_added_after_final_relu",
                [(FINAL, '    X = Activation("relu")(X)\n    X = Add()([X, X_shortcut])\n')],
                "the shortcut is added after the final ReLU"),
        mistake("valid_padding_middle_conv", [('strides=(1, 1), padding="same"', 'strides=(1, 1), padding="valid"')],
                "res1a_branch2b uses padding 'valid', expected 'same'"),
        mistake("batchnorm_axis_1", [('BatchNormalization(axis=3, name=bn_name_base + "2b")',
                                      'BatchNormalization(axis=1, name=bn_name_base + "2b")')],
                "BatchNormalization on axis 1, expected axis 3 (channels)"),
        mistake("second_batchnorm_missing", [('    X = BatchNormalization(axis=3, name=bn_name_base + "2b")(X)\n', '')],
                "bn1a_branch2b is missing"),
        mistake("shortcut_from_main_path", [(first, first + "    X_shortcut = X\n")],
                "the shortcut starts from the main path instead of the block input"),
        mistake("no_skip_connection", [('    X = Add()([X, X_shortcut])\n', '')], "the shortcut is never added"),
        mistake("relu_before_batchnorm", [('    X = BatchNormalization(axis=3, name=bn_name_base + "2a")(X)\n'
                                           '    X = Activation("relu")(X)\n',
                                           '    X = Activation("relu")(X)\n'
                                           '    X = BatchNormalization(axis=3, name=bn_name_base + "2a")(X)\n')],
                "the ReLU comes before bn1a_branch2a"),
        mistake("relu_missing_after_first_bn", [(first, first.replace('    X = Activation("relu")(X)\n', ''))],
                "ReLU missing after bn1a_branch2a"),
        mistake("final_activation_sigmoid", [(FINAL, FINAL.replace('Activation("relu")', 'Activation("sigmoid")'))],
                "the final activation must be a plain ReLU"),
        # TensorFlow functions on Keras tensors crash; the message names the fix, not the Add
        mistake("tf_nn_relu_on_keras_tensor", [(second, second.replace('Activation("relu")(X)', "tf.nn.relu(X)"))],
                "raised ValueError", "keras.ops", "X = tf.nn.relu(X)"),
        # the TF2 version of the classic exercise passed training=True to every BatchNorm
        mistake("batchnorm_training_true", [('BatchNormalization(axis=3, name=bn_name_base + "2a")(X)',
                                             'BatchNormalization(axis=3, name=bn_name_base + "2a")(X, training=True)')],
                "bn1a_branch2a is called with training=True"),
        mistake("relu_as_lambda", [(second, second.replace('Activation("relu")(X)', "layers.Lambda(tf.nn.relu)(X)"))],
                "cannot see inside a Lambda"),
    ]


def mistake(id: str, code: str, *words: str) -> Mistake:
    return Mistake(id, EXERCISE, code, words)


MISTAKES = main_path_mistakes(EXERCISE, CORRECT, FIRST, SECOND) + [
    mistake("middle_conv_1x1", variant(("kernel_size=(f, f)", "kernel_size=(1, 1)")),
            "res1a_branch2b has a 1x1 kernel, expected fxf = 2x2"),
    mistake("F2_F3_swapped", variant(("filters=F2,", "filters=F3,"),
                                     ('filters=F3, kernel_size=(1, 1), strides=(1, 1), padding="valid",\n'
                                      '               name=conv_name_base + "2c"',
                                      'filters=F2, kernel_size=(1, 1), strides=(1, 1), padding="valid",\n'
                                      '               name=conv_name_base + "2c"')),
            "F2 and F3 swapped: res1a_branch2b has 6 filters, expected 4"),
    mistake("layer_name_without_branch",
            variant(('name=conv_name_base + "2a"', 'name="res" + str(stage) + block + "_2a"')),
            "layer named 'res1a_2a', expected 'res1a_branch2a'", "notebook 04 looks the layers up by these names"),
    mistake("ignores_initializer_argument",
            variant(('name=conv_name_base + "2b", kernel_initializer=initializer(seed=0)',
                     'name=conv_name_base + "2b", kernel_initializer=glorot_uniform(seed=0)')),
            "res1a_branch2b ignores the initializer argument"),
    mistake("initializer_without_seed", variant(('name=conv_name_base + "2c", kernel_initializer=initializer(seed=0)',
                                                 'name=conv_name_base + "2c", kernel_initializer=initializer()')),
            "res1a_branch2c uses initializer(seed=None), expected initializer(seed=0)"),
    mistake("conv_on_identity_shortcut",
            variant(("    X_shortcut = X\n",
                     "    X_shortcut = Conv2D(F3, (1, 1), name=conv_name_base + '1')(X)\n"
                     "    X_shortcut = BatchNormalization(axis=3, name=bn_name_base + '1')(X_shortcut)\n")),
            "the identity block adds the input as it is"),
    mistake("relu_inside_last_conv", variant(('padding="valid",\n               name=conv_name_base + "2c"',
                                              'padding="valid", activation="relu",\n'
                                              '               name=conv_name_base + "2c"')),
            "res1a_branch2c has activation='relu' built in"),
    mistake("stride_2_in_identity_block", variant(('filters=F1, kernel_size=(1, 1), strides=(1, 1)',
                                                   'filters=F1, kernel_size=(1, 1), strides=(2, 2)')),
            "res1a_branch2a has stride 2, expected 1"),
    mistake("default_random_uniform",
            variant(("initializer=glorot_uniform):", "initializer=keras.initializers.RandomUniform):")),
            "the default must be initializer=glorot_uniform"),
    mistake("returns_nothing", variant(("    return X\n", "")), "return X"),
    # nothing in the graph is wrong, the numbers are: the comparison of the outputs names it
    mistake("conv_bias_starts_at_one", variant(('name=conv_name_base + "2c", kernel_initializer=initializer(seed=0)',
                                                'name=conv_name_base + "2c", kernel_initializer=initializer(seed=0), '
                                                'bias_initializer="ones"')),
            "output with known weights, BatchNorm in inference mode (training=False): wrong values",
            "the layers look right but the numbers differ"),
    mistake("shortcut_added_too_early_crash", variant((SECOND, SECOND + "    X = Add()([X, X_shortcut])\n"),
                                                      (FINAL, '    X = Activation("relu")(X)\n')),
            "the two tensors added must have the same shape", "before the main path is complete"),
]

# ============================================================================ special-casing the visible inputs
HARD_CODED = [
    # the names of the demo (stage 1, block 'a') whatever stage and block are
    HardCoded("hard_coded_names", EXERCISE, variant(('conv_name_base = "res" + str(stage) + block + "_branch"',
                                                     'conv_name_base = "res1a_branch"'))),
    # the demo's f=2 written into the middle convolution
    HardCoded("middle_kernel_2x2", EXERCISE, variant(("kernel_size=(f, f)", "kernel_size=(2, 2)"))),
]

# ============================================================================ other correct answers
ALTERNATIVES = [
    # layers.add + ReLU() layers, positional arguments
    Alternative("add_function_relu_layer_positional", EXERCISE, HEADER + '''
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
'''),
    # tf.keras.layers, the + operator, keras.activations.relu through Activation
    Alternative("tf_keras_plus_operator", EXERCISE, HEADER + '''
    L = tf.keras.layers
    X = L.Conv2D(F1, 1, padding="valid", name=conv_name_base + "2a", kernel_initializer=initializer(seed=0))(X)
    X = L.Activation(keras.activations.relu)(L.BatchNormalization(axis=3, name=bn_name_base + "2a")(X))
    X = L.Conv2D(F2, f, padding="same", name=conv_name_base + "2b", kernel_initializer=initializer(seed=0))(X)
    X = L.Activation(keras.activations.relu)(L.BatchNormalization(axis=3, name=bn_name_base + "2b")(X))
    X = L.Conv2D(F3, 1, name=conv_name_base + "2c", kernel_initializer=initializer(seed=0))(X)
    X = L.BatchNormalization(axis=3, name=bn_name_base + "2c")(X)
    X = X_shortcut + X
    return L.Activation("relu")(X)
'''),
    # keras.ops.add / keras.ops.relu, a helper function and a loop, axis=-1
    Alternative("ops_add_helper_loop", EXERCISE, HEADER + '''
    def component(X, filters, size, padding, branch, relu):
        X = keras.layers.Conv2D(filters, kernel_size=size, padding=padding, name=conv_name_base + branch,
                                kernel_initializer=initializer(seed=0))(X)
        X = keras.layers.BatchNormalization(axis=-1, name=bn_name_base + branch)(X)
        return keras.ops.relu(X) if relu else X

    for filters_, size, padding, branch in [(F1, 1, "valid", "2a"), (F2, f, "same", "2b"), (F3, 1, "valid", "2c")]:
        X = component(X, filters_, size, padding, branch, relu=branch != "2c")
    return keras.ops.relu(keras.ops.add(X, X_shortcut))
'''),
    # the classic exercise's keyword style
    Alternative("add_layer_keyword_style", EXERCISE,
                CORRECT.replace('Activation("relu")', "Activation(activation='relu')")),
    # one seeded initializer shared by the three convolutions, 'same' padding everywhere (a 1x1 kernel pads
    # nothing), Activation(tf.nn.relu) (a TensorFlow function inside a layer is fine), no bias
    Alternative("shared_initializer_same_padding_tf_relu", EXERCISE, HEADER + '''
    init = initializer(seed=0)
    for F, k, branch in ((F1, 1, "2a"), (F2, f, "2b"), (F3, 1, "2c")):
        X = Conv2D(F, k, padding="same", use_bias=False, name=conv_name_base + branch, kernel_initializer=init)(X)
        X = BatchNormalization(axis=3, name=bn_name_base + branch)(X)
        if branch != "2c":
            X = Activation(tf.nn.relu)(X)
    return Activation(tf.nn.relu)(Add()([X_shortcut, X]))
'''),
]

# ============================================================================ the one real nbgrader run
CLASS = {
    "student": ["relu_after_third_bn"],
}
