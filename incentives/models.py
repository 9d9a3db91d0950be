"""Models of the incentives app (filled by its own issue)."""
