"""Runner adapters: model and task runners that start processes (shell commands, D23).

Each runner lives in a module of its own here and, like every adapter, imports no other adapter but
`chapkit.adapters.observability`.
"""
