"""`python -m chapkit`: serve the main job (see chapkit.bootstrap.main_service)."""

from chapkit.bootstrap.main_service import main

main()
