"""The course's nbgrader preprocessors, one per module as in ``nbgrader.preprocessors``."""
from .sandboxed_execute import SandboxedExecute

__all__ = ["SandboxedExecute"]
