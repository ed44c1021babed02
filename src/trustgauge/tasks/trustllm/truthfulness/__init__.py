"""TrustLLM truthfulness (``task/truthfulness.py::TruthfulnessEval``): misinformation (internal
and external knowledge), hallucination, sycophancy (persona and preference) and adversarial
factuality.

Where TrustLLM asks GPT-4 (internal-knowledge QA, preference sycophancy, adversarial
factuality) the task declares a judge slot; the QA slot has an offline default (SQuAD exact
match / F1 / containment), the other two run only with ``--judge-model`` (evaluate reports them
"not scored" otherwise). Where TrustLLM reads an answer with a keyword rule that misreads
ordinary English (HaluEval yes/no, TruthfulQA letters) the answer is read by answer extraction
and TrustLLM's rule is kept behind ``reference=True``.
"""
