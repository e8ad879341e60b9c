"""The artifacts example (see its main.py)."""
