"""The mistakes that the checks recognise by their outputs, as code: the instructor's side only.

Each module holds ``MISTAKES``: exercise name -> the :class:`~course_utils.checks.engine.Mistake`
objects whose ``output(case)`` computes what that mistake gives on a case. Most of them are one
argument away from a correct answer (``conv_variant`` without options is a convolution), so a class's
release leaves this package out (``course_autograde.release``). There the checks diagnose the visible
cases from these outputs as stored with the visible references (``make_references`` writes them), and
the grader, on the instructor's side, computes them for the hidden cases.
"""
