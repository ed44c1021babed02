"""Results: schema, writing and reading run directories, summaries."""
