"""The custom_entity example (see its main.py)."""
