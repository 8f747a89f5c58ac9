# The hidden cases of 04_resnet50 (the instructor's side only): other sizes and values than the
# visible cases, never other kinds of mistakes. A Python literal, read as data (never run) by
# course_utils.checks.engine; each key is the name of the part in course_utils/checks/resnet50.py.
{'CASES': {'96x96x3_3_classes': {'input_shape': (96, 96, 3), 'classes': 3}}}
