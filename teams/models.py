"""Models of the teams app (filled by its own issue)."""
