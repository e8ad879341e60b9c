"""`python -m chapkit`: the `chapkit` command; with no arguments it serves the main job (`chapkit demo`).

With no arguments the main job is served straight away, without loading the command line (typer,
rich, the HTTP client of the client commands): a started service holds only what serving needs.
"""

import sys

if len(sys.argv) > 1:
    from chapkit.cli import main

    main()
else:
    from chapkit.adapters.http.serving import run_app
    from chapkit.demo import MAIN_JOB

    run_app(MAIN_JOB, factory=True, reload=False)  # as `chapkit demo`: one process, no file watcher
