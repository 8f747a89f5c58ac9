"""The autograde pipeline of ``python -m course_autograde.grade`` (a traitlets config file).

The grade command loads it *under* the course's ``nbgrader_config.py``: a
setting made there wins (e.g. ``c.SandboxedExecute.memory_limit``). The
command then checks that the pipeline it ends up with runs students' code
only through ``SandboxedExecute``.
"""
from nbconvert.preprocessors import ClearMetadataPreprocessor
from nbgrader.preprocessors import AssignLatePenalties, CheckCellMetadata, IgnorePattern, LimitOutput, SaveAutoGrades

from course_autograde.preprocessors import JudgeChecks, SandboxedExecute

c = get_config()  # noqa: F821  (provided by traitlets when the file is loaded)

# nbgrader 0.9.6's Autograde.autograde_preprocessors, with Execute replaced by the sandbox and
# the check cells' verdicts made outside it.
c.Autograde.autograde_preprocessors = [
    SandboxedExecute,
    JudgeChecks,
    IgnorePattern,
    ClearMetadataPreprocessor,
    LimitOutput,
    SaveAutoGrades,
    AssignLatePenalties,
    CheckCellMetadata,
]

# The course's c.Execute.timeout (900 s) is the limit for unsandboxed runs. In the
# sandbox a cell gets 120 s and the whole notebook 600 s (SandboxedExecute's
# default): meant as a few times a normal fast-mode run; check them against timed
# runs of the course notebooks under the grader.
c.SandboxedExecute.timeout = 120
