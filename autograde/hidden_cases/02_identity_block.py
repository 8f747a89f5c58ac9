# The hidden cases of 02_identity_block (the instructor's side only): other sizes and values than the
# visible cases, never other kinds of mistakes. A Python literal, read as data (never run) by
# course_utils.checks.engine; each key is the name of the part in course_utils/checks/identity_block.py.
{'identity_block': {'f3_stage3c': {'shape': (2, 5, 5, 7),
                                   'f': 3,
                                   'filters': (3, 5, 7),
                                   'stage': 3,
                                   'block': 'c',
                                   'seed': 1},
                    'wide_stage4e': {'shape': (2, 3, 3, 5),
                                     'f': 3,
                                     'filters': (4, 2, 5),
                                     'stage': 4,
                                     'block': 'e',
                                     'seed': 2}}}
