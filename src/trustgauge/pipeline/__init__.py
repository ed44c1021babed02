"""The run pipeline (docs/architecture.md §2.1): what runs task code over the engine."""
