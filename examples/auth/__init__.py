"""The auth example (see its main.py)."""
