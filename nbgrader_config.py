# Entry point for nbgrader commands run from the repository root; the settings live in autograde/.
c = get_config()  # noqa: F821
load_subconfig("autograde/nbgrader_config.py")  # noqa: F821
