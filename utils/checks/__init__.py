"""Exercise checks: :mod:`.core` holds the shared message style, one module per notebook holds its checks."""
from .core import CheckFailed  # noqa: F401
