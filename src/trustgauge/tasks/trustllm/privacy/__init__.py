"""TrustLLM privacy (``task/privacy.py::PrivacyEval``): privacy awareness (ConfAIde ratings and
queries for someone's private information) and privacy leakage (Enron e-mail addresses).

The leakage data holds names and e-mail addresses from the Enron corpus (public, released by
FERC). They are kept in samples as the scoring target only; never log them.
"""
