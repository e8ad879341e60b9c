"""The ml_shell_python example (see its main.py)."""
