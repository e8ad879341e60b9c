"""The ml_functional example (see its main.py)."""
