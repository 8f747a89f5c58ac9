# nbgrader configuration of the course. The nbgrader_config.py at the
# repository root loads this file, so instructors run the normal nbgrader
# commands from the root (see README.md, "For instructors").
c = get_config()  # noqa: F821  (provided by traitlets when nbgrader loads the file)

# solutions/<assignment>/ is the instructor source, notebooks/<assignment>/ the
# student release that is committed to git.
c.CourseDirectory.source_directory = "solutions"
c.CourseDirectory.release_directory = "notebooks"
# Students' work and grading results stay out of git (see .gitignore).
c.CourseDirectory.submitted_directory = "autograde/submitted"
c.CourseDirectory.autograded_directory = "autograde/autograded"
c.CourseDirectory.feedback_directory = "autograde/feedback"
c.CourseDirectory.db_url = "sqlite:///autograde/gradebook.db"

c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}
c.ClearSolutions.text_stub = "YOUR ANSWER HERE"
# Notebooks run in fast mode under nbgrader (NBGRADER_EXECUTION is set), but
# TensorFlow start-up plus a few training steps still needs a generous limit.
c.ExecutePreprocessor.timeout = 900
c.Execute.timeout = 900

# nbgrader scores a graded cell 0 when anything reaches stderr, and TensorFlow's C++ start-up lines
# go there: keep them out of the kernels nbgrader starts (they inherit this environment).
import os  # noqa: E402

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
