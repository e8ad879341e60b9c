"""The jobs_sse example (see its main.py)."""
