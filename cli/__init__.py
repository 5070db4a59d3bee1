"""The `leadcap` command line: thin Typer commands over the leadcap package."""
