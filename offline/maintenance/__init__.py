"""Scripts that regenerate data the tests read from upstream sources (run from the repository root)."""
