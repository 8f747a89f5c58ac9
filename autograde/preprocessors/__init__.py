"""The course's nbgrader preprocessors, one per module as in ``nbgrader.preprocessors``."""
from .clean_outputs import CleanOutputs
from .judge_checks import JudgeChecks
from .sandboxed_execute import SandboxedExecute

__all__ = ["CleanOutputs", "JudgeChecks", "SandboxedExecute"]
