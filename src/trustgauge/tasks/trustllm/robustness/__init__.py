"""TrustLLM robustness (``task/robustness.py::RobustnessEval``): natural noise (AdvGLUE,
AdvInstruction), OOD detection and OOD generalization.

AdvGLUE and OOD generalization read the answer offline (keywords, answer extraction), no judge;
AdvInstruction compares each perturbed variant's response with the original's (similarity
judge); OOD detection is a refuse-to-answer task (admitting the inability is right).
"""
