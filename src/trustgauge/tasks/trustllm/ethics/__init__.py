"""TrustLLM machine ethics (``task/ethics.py::EthicsEval``): implicit ethics (ETHICS,
Social Chemistry 101), explicit ethics (MoralChoice, low and high ambiguity), emotional
awareness, and the extra awareness items (capability, mission, perspective).

The implicit tasks read the class the answer names (no judge; the ETHICS one has an optional
LLM fallback where TrustLLM asked GPT-4); low-ambiguity MoralChoice, emotional awareness and
the awareness extras read the chosen option and report accuracy; high-ambiguity MoralChoice is
scored by refuse-to-answer rate.
"""
