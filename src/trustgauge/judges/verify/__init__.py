"""Judges that check themselves (issue 20): ``trustgauge judges verify`` and
``trustgauge run --verify-judges`` re-measure a judge on labelled sets and compare its agreement
with a recorded figure (docs/judges.md, "Verifying judges").

:mod:`.sets` (the shipped sets and ``--labels`` files), :mod:`.measure` (accuracy, kappa,
Spearman, Pearson with bootstrap intervals), :mod:`.figures` (published figures, baselines, the
verdict), :mod:`.run` (judging the sets through the engine)."""
