"""The library example (see its main.py)."""
