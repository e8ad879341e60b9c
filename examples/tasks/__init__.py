"""The tasks example (see its main.py)."""
