"""Maintenance scripts of the component package (not shipped in its wheel: pyproject.toml lists only llmplatform).
Run from the repository root against the installed llmplatform: `make schema`, `make pin-digests`."""
