"""`python -m chapkit`: the `chapkit` command; with no arguments it serves the main job (`chapkit demo`)."""

from chapkit.cli import main

main(default_command="demo")
