"""Sphinx configuration of the course book (``make book``; ``course_autograde.book`` writes the pages).

Sphinx with MyST-NB renders the executed notebooks as they are (no execution here), the book theme
gives the navigation between chapters and the search, and MathJax is served from the book itself
(sphinx-mathjax-offline), so the maths renders without a network.
"""
project = "ConvNets & ResNets with TensorFlow/Keras"
author = "the course's authors"
copyright = "the course's authors"

extensions = ["myst_nb", "sphinx-mathjax-offline"]
myst_enable_extensions = ["dollarmath", "amsmath", "colon_fence"]
nb_execution_mode = "off"           # the notebooks come executed (make book runs them first)
nb_output_stderr = "remove"         # warnings of the libraries are not for readers
nb_merge_streams = True
exclude_patterns = ["_build", "**.ipynb_checkpoints", "screenshots"]
suppress_warnings = ["mystnb.unknown_mime_type"]

html_theme = "sphinx_book_theme"
html_title = project
html_favicon = "favicon.svg"
html_theme_options = {
    "show_navbar_depth": 1,
    "show_toc_level": 2,
    "use_download_button": False,    # the repository has the notebooks
    "use_fullscreen_button": False,
}
html_context = {"default_mode": "light"}  # the theme complains on a first visit without it
html_static_path = []
html_last_updated_fmt = None
