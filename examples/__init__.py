"""Runnable chapkit examples, one directory each; serve one with `chapkit serve examples.<name>.main:app`."""
