"""The config_api example (see its main.py)."""
