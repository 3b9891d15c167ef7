"""The ``assay`` command line (Typer + Rich); the entry point is :func:`assay.cli.main.main`.

One module per command group; ``main.py`` puts them together. Commands use the store
directly, so they work whether or not a server is running.
"""
