"""The ml_shell_r example (see its main.py)."""
