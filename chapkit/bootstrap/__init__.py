"""The composition root: the only package that knows every layer and chooses adapters."""

from chapkit.bootstrap.containers import (
    MemoryStorage,
    ServiceContainer,
    SqlStorage,
    Storage,
    create_container,
    open_storage,
)

__all__ = ["MemoryStorage", "ServiceContainer", "SqlStorage", "Storage", "create_container", "open_storage"]
