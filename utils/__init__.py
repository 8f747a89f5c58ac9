"""Shared code for the ConvNets & ResNets course, imported as ``course_utils``.

One module per concern:

* :mod:`course_utils.settings` - where the data lives, fast mode, caches;
* :mod:`course_utils.datasets` - the catalogue of the datasets: folders, classes, files, download records;
* :mod:`course_utils.data` - dataset loaders (arrays and ``tf.data``);
* :mod:`course_utils.download` - fetching datasets for online users;
* :mod:`course_utils.plots` - every figure the notebooks draw;
* :mod:`course_utils.checks` - the exercise checks and their messages;
* :mod:`course_utils.references` - reference output vectors (package data in ``reference_values/``);
* :mod:`course_utils.blocks` - the reference ResNet-50 blocks, reused by later notebooks;
* :mod:`course_utils.models` - the reference ResNet-50 and its training recipe.

Imports go one way: ``datasets`` imports nothing of the course, ``data`` only
``settings`` and ``datasets``, and ``download`` those and ``data``. Importing
any module reads no file of the data or cache folders.
"""
