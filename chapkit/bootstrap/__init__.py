"""The composition root: the only package that knows every layer and chooses adapters.

`containers` turns a `ServiceSpec` into a started container of application services; the builders fill
specs and assemble FastAPI apps; `dependencies` resolves the running service (D6). The public names are
re-exported by the facades, `chapkit` and `chapkit.api`, not here.
"""
