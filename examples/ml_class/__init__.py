"""The ml_class example (see its main.py)."""
