"""The app_hosting example (see its main.py)."""
