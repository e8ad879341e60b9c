"""Technology adapters: one subpackage per technology, none importing another (but observability)."""
