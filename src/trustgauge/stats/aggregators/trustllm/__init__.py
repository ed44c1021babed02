"""Aggregators of the TrustLLM tasks, one module per dimension."""
