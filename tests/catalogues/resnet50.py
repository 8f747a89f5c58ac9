"""Notebook 04 (ResNet-50): wrong answers, hard-coded answers, alternative correct answers, the class."""
from __future__ import annotations

from catalogue import Alternative, HardCoded, Mistake, edit, src
from course_autograde.notebook_code import answer_sources, notebook_path, read_notebook

EXERCISE = "ResNet50"
SOLUTION = answer_sources(read_notebook(notebook_path("04_resnet50")))[EXERCISE]

STAGE3_LOOP = ('    for block in ["b", "c", "d"]:\n'
               '        X = identity_block(X, 3, [128, 128, 512], stage=3, block=block)')
STAGE4_LOOP = 'for block in ["b", "c", "d", "e", "f"]:'
STEM_RELU = "    X = ReLU()(X)\n"
STEM_POOL = "    X = MaxPooling2D((3, 3), strides=(2, 2))(X)\n"
BN_CONV1 = '    X = BatchNormalization(axis=3, name="bn_conv1")(X)\n'
FLATTEN = "    X = Flatten()(X)\n"
DENSE = ('    X = Dense(classes, activation="softmax", name="fc" + str(classes),\n'
         '              kernel_initializer=glorot_uniform(seed=0))(X)\n')
STAGE5 = ('    X = convolutional_block(X, f=3, filters=[512, 512, 2048], stage=5, block="a", s=2)\n'
          '    X = identity_block(X, 3, [512, 512, 2048], stage=5, block="b")\n'
          '    X = identity_block(X, 3, [512, 512, 2048], stage=5, block="c")\n')


def mistake(id: str, words, *edits: tuple[str, str]) -> Mistake:
    return Mistake(id, EXERCISE, edit(SOLUTION, *edits), words)


MISTAKES = [
    mistake("stage4_only_4_blocks", ("stage 4 has 4 blocks, expected 6 (a-f)",),
            (STAGE4_LOOP, 'for block in ["b", "c", "d"]:')),
    mistake("stage3_block_c_wrong_filters",
            ("stage 3, block c: expected 128 filters in res3c_branch2b, found 64", "[128, 128, 512]"),
            (STAGE3_LOOP, '    X = identity_block(X, 3, [128, 128, 512], stage=3, block="b")\n'
                          '    X = identity_block(X, 3, [128, 64, 512], stage=3, block="c")\n'
                          '    X = identity_block(X, 3, [128, 128, 512], stage=3, block="d")')),
    mistake("stage2_stride_2", ("stage 2, block a: expected strides (1, 1) in res2a_branch2a, found (2, 2)", "s=1"),
            ('stage=2, block="a", s=1)', 'stage=2, block="a")')),
    mistake("stage4_stride_1", ("stage 4, block a: expected strides (2, 2) in res4a_branch2a, found (1, 1)",),
            ('stage=4, block="a", s=2)', 'stage=4, block="a", s=1)')),
    mistake("maxpool_missing", ("MaxPooling2D after bn_conv1/ReLU is missing",), (STEM_POOL, "")),
    mistake("maxpool_default_strides", ("expected MaxPooling2D (3, 3) stride (2, 2)", "strides (3, 3)",
                                        "default to its pool size"),
            (STEM_POOL, "    X = MaxPooling2D((3, 3))(X)\n")),
    mistake("maxpool_before_relu",
            ("MaxPooling2D (3, 3) stride (2, 2) and ReLU after bn_conv1 are in the wrong order",),
            (STEM_RELU + STEM_POOL, STEM_POOL + STEM_RELU)),
    mistake("relu_missing_in_stem", ("ReLU after bn_conv1 is missing",), (STEM_RELU, "")),
    mistake("relu_before_bn_conv1", ("the ReLU comes before bn_conv1", "normalize first"),
            (BN_CONV1 + STEM_RELU, STEM_RELU + BN_CONV1)),
    mistake("zero_padding_missing", ("ZeroPadding2D before conv1 is missing",),
            ("X = ZeroPadding2D((3, 3))(X_input)", "X = X_input")),
    mistake("conv1_stride_1", ("stage 1: expected strides (2, 2) in conv1, found (1, 1)",),
            ('Conv2D(64, (7, 7), strides=(2, 2), name="conv1"', 'Conv2D(64, (7, 7), strides=(1, 1), name="conv1"')),
    mistake("conv1_kernel_3x3", ("stage 1: expected kernel size (7, 7) in conv1, found (3, 3)",),
            ('Conv2D(64, (7, 7), strides=(2, 2), name="conv1"', 'Conv2D(64, (3, 3), strides=(2, 2), name="conv1"')),
    mistake("bn_conv1_axis_1", ("stage 1: expected axis 3 in bn_conv1, found 1", "channels axis"),
            ('BatchNormalization(axis=3, name="bn_conv1")', 'BatchNormalization(axis=1, name="bn_conv1")')),
    mistake("stage5_missing", ("stage 5 is missing (expected 3 blocks, a-c)",), (STAGE5, "")),
    mistake("stage3_block_a_identity", ("raised ValueError", "incompatible shapes", "convolutional_block"),
            ('X = convolutional_block(X, f=3, filters=[128, 128, 512], stage=3, block="a", s=2)',
             'X = identity_block(X, 3, [128, 128, 512], stage=3, block="a")')),
    mistake("global_average_pooling", ("avg_pool: expected AveragePooling2D (2, 2), found GlobalAveragePooling2D",
                                       "differ on other sizes"),
            ('X = AveragePooling2D((2, 2), name="avg_pool")(X)',
             'X = keras.layers.GlobalAveragePooling2D(name="avg_pool")(X)')),
    mistake("avg_pool_unnamed", ("avg_pool: expected an AveragePooling2D named 'avg_pool'", "name='avg_pool'"),
            ('AveragePooling2D((2, 2), name="avg_pool")', "AveragePooling2D((2, 2))")),
    mistake("flatten_missing", ("Flatten after avg_pool is missing",), (FLATTEN, "")),
    mistake("dense_before_flatten", ("Dense(2, softmax) and Flatten after avg_pool are in the wrong order",),
            (FLATTEN + DENSE, DENSE + FLATTEN)),
    mistake("linear_head", ("fc2: expected softmax activation, found linear",), ('activation="softmax", ', '')),
    # behaviour-equivalent, rejected on purpose: the table's fc<classes> layer gives the probabilities itself
    mistake("separate_softmax_layer", ("fc2: expected softmax activation, found linear", "belongs to the fc layer"),
            ('activation="softmax", ', ''),
            (DENSE.replace('activation="softmax", ', ''), DENSE.replace('activation="softmax", ', '')
             + '    X = keras.layers.Activation("softmax")(X)\n')),
    mistake("model_not_named", ("model name: expected 'ResNet50', found 'functional'",),
            ('model = Model(inputs=X_input, outputs=X, name="ResNet50")', "model = Model(inputs=X_input, outputs=X)")),
    mistake("returns_the_output_tensor", ("did not return a Keras model", "return model"),
            ("    return model", "    return X")),
    mistake("duplicate_block_letters", ("raised ValueError", "its own letter"),
            ('stage=2, block="c")', 'stage=2, block="b")')),
    mistake("identity_filters_do_not_match", ("raised ValueError", "same filters"),
            (STAGE3_LOOP, '    for block in ["b", "c", "d"]:\n'
                          '        X = identity_block(X, 3, [128, 128, 256], stage=3, block=block)')),
]

HARD_CODED = [
    # always 2 classes: right for the visible case (classes=2), wrong for the hidden one (classes=3)
    HardCoded("hard_coded_two_classes", EXERCISE,
              edit(SOLUTION, ('Dense(classes, activation="softmax", name="fc" + str(classes)',
                              'Dense(2, activation="softmax", name="fc2"'))),
    # always 64x64x3 images: the hidden case builds the model for 96x96x3
    HardCoded("ignores_input_shape", EXERCISE, edit(SOLUTION, ("X_input = Input(input_shape)",
                                                               "X_input = Input((64, 64, 3))"))),
]

ALTERNATIVES = [
    # explicit blocks, Activation('relu'), int sizes, axis=-1, keyword-style Input and Model, no initializers
    Alternative("explicit_activation_relu", EXERCISE, src('''
        def ResNet50(input_shape=(64, 64, 3), classes=2):
            inputs = keras.Input(shape=input_shape)
            x = keras.layers.ZeroPadding2D(padding=3)(inputs)
            x = keras.layers.Conv2D(filters=64, kernel_size=7, strides=2, name="conv1")(x)
            x = keras.layers.BatchNormalization(axis=-1, name="bn_conv1")(x)
            x = keras.layers.Activation("relu")(x)
            x = keras.layers.MaxPooling2D(pool_size=3, strides=2)(x)
            x = convolutional_block(x, 3, [64, 64, 256], 2, "a", s=1)
            x = identity_block(x, 3, [64, 64, 256], 2, "b")
            x = identity_block(x, 3, [64, 64, 256], 2, "c")
            x = convolutional_block(x, 3, [128, 128, 512], 3, "a")
            x = identity_block(x, 3, [128, 128, 512], 3, "b")
            x = identity_block(x, 3, [128, 128, 512], 3, "c")
            x = identity_block(x, 3, [128, 128, 512], 3, "d")
            x = convolutional_block(x, 3, [256, 256, 1024], 4, "a")
            x = identity_block(x, 3, [256, 256, 1024], 4, "b")
            x = identity_block(x, 3, [256, 256, 1024], 4, "c")
            x = identity_block(x, 3, [256, 256, 1024], 4, "d")
            x = identity_block(x, 3, [256, 256, 1024], 4, "e")
            x = identity_block(x, 3, [256, 256, 1024], 4, "f")
            x = convolutional_block(x, 3, [512, 512, 2048], 5, "a")
            x = identity_block(x, 3, [512, 512, 2048], 5, "b")
            x = identity_block(x, 3, [512, 512, 2048], 5, "c")
            x = keras.layers.AveragePooling2D(pool_size=2, name="avg_pool")(x)
            x = keras.layers.Flatten()(x)
            outputs = keras.layers.Dense(classes, activation="softmax", name=f"fc{classes}")(x)
            return keras.Model(inputs=inputs, outputs=outputs, name="ResNet50")
        ''')),
    # a table-driven loop over the stages, as course_utils.resnet50 does
    Alternative("loop_over_stages", EXERCISE, src('''
        def ResNet50(input_shape=(64, 64, 3), classes=2):
            X_input = Input(input_shape)
            X = ZeroPadding2D((3, 3))(X_input)
            X = Conv2D(64, (7, 7), strides=(2, 2), name="conv1")(X)
            X = BatchNormalization(axis=3, name="bn_conv1")(X)
            X = ReLU()(X)
            X = MaxPooling2D((3, 3), strides=(2, 2))(X)
            stages = [(2, [64, 64, 256], 1, "abc"), (3, [128, 128, 512], 2, "abcd"),
                      (4, [256, 256, 1024], 2, "abcdef"), (5, [512, 512, 2048], 2, "abc")]
            for stage, filters, stride, letters in stages:
                X = convolutional_block(X, 3, filters, stage=stage, block=letters[0], s=stride)
                for letter in letters[1:]:
                    X = identity_block(X, 3, filters, stage=stage, block=letter)
            X = AveragePooling2D((2, 2), name="avg_pool")(X)
            X = Flatten()(X)
            X = Dense(classes, activation="softmax", name="fc" + str(classes))(X)
            return Model(X_input, X, name="ResNet50")
        ''')),
    # keras.ops.relu in the stem (an operation, not a layer), tuples of strides, the blocks from a dict
    Alternative("keras_ops_relu_and_block_table", EXERCISE, src('''
        def ResNet50(input_shape=(64, 64, 3), classes=2):
            X_input = Input(shape=input_shape)
            X = ZeroPadding2D(padding=(3, 3))(X_input)
            X = Conv2D(64, 7, strides=(2, 2), padding="valid", name="conv1")(X)
            X = BatchNormalization(axis=3, name="bn_conv1")(X)
            X = keras.ops.relu(X)
            X = MaxPooling2D(pool_size=(3, 3), strides=2)(X)
            blocks = {2: 3, 3: 4, 4: 6, 5: 3}
            for stage, count in blocks.items():
                width = 64 * 2 ** (stage - 2)
                filters = [width, width, 4 * width]
                X = convolutional_block(X, 3, filters, stage, "a", s=1 if stage == 2 else 2)
                for letter in "bcdef"[:count - 1]:
                    X = identity_block(X, 3, filters, stage, letter)
            X = AveragePooling2D(2, name="avg_pool")(X)
            X = Flatten()(X)
            X = Dense(units=classes, activation=keras.activations.softmax, name="fc%d" % classes)(X)
            return Model(inputs=[X_input], outputs=X, name="ResNet50")
        ''')),
]

# No student besides the solution: a ResNet-50 notebook costs the most to run under nbgrader, and the
# harness already tries every catalogued answer in-process; the other notebooks' students show that a
# failed check costs exactly its points.
CLASS: dict[str, list[str]] = {}
