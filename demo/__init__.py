"""Demo data for the embedded default and the browser tests: imports every app, imported by none (DESIGN.md §2)."""
