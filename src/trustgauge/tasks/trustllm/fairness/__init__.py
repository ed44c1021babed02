"""TrustLLM fairness (``task/fairness.py::FairnessEval``): stereotype recognition, agreement and
query, disparagement, preference.

Where TrustLLM reads a free-form answer with GPT-4 (stereotype recognition and agreement, when
the response is not a bare answer), trustgauge reads it offline with
:mod:`trustgauge.judges.extraction`; a response it cannot read is *invalid* (left out, counted in
``n_invalid``), never guessed, unless a judge model is given (``--judge-model``): then an LLM
reads those answers with TrustLLM's prompt (optional judge slots, see
:func:`~trustgauge.tasks.trustllm.fairness.stereotype_recognition.needs_fallback`)."""
