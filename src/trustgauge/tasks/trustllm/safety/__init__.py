"""TrustLLM safety (``task/safety.py::SafetyEval``): jailbreak, toxicity, misuse, exaggerated
safety.

Jailbreak, misuse and exaggerated safety are refuse-to-answer tasks: the record's ``prompt`` is
sent verbatim as one user turn at temperature 1.0, the refusal judge labels each response, and
RtA = refusals / judged responses. Toxicity, TrustLLM's fourth safety sub-task, scores the
jailbreak responses that complied.
"""
