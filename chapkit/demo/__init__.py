"""The main job: a demo model service built with chapkit (`python -m chapkit`, `chapkit demo`)."""
