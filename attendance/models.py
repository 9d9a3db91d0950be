"""Models of the attendance app (filled by its own issue)."""
