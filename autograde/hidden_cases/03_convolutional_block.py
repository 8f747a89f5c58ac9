# The hidden cases of 03_convolutional_block (the instructor's side only): other sizes and values than the
# visible cases, never other kinds of mistakes. A Python literal, read as data (never run) by
# course_utils.checks.engine; each key is the name of the part in course_utils/checks/convolutional_block.py.
{'convolutional_block': {'s1_stage2b': {'shape': (2, 4, 4, 3),
                                        'f': 3,
                                        'filters': (2, 3, 5),
                                        'stage': 2,
                                        'block': 'b',
                                        'seed': 1,
                                        's': 1},
                         's3_stage5a': {'shape': (2, 7, 7, 4),
                                        'f': 2,
                                        'filters': (3, 4, 8),
                                        'stage': 5,
                                        'block': 'a',
                                        'seed': 2,
                                        's': 3},
                         'default_s_stage3a': {'shape': (2, 6, 6, 4),
                                               'f': 3,
                                               'filters': (4, 3, 6),
                                               'stage': 3,
                                               'block': 'a',
                                               'seed': 3}}}
