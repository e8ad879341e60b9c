"""`python -m chapkit`: the main job of this checkout."""

from chapkit.bootstrap.demo import main

main()
