"""Use cases: managers and services built on the domain's ports."""
