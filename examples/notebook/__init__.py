"""The notebook example (see its main.py)."""
