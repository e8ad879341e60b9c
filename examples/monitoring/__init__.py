"""The monitoring example (see its main.py)."""
