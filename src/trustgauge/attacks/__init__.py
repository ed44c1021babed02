"""Attacks on a model's safeguards (Fan et al.'s security dimension, issue 17), as small named,
versioned, composable pieces (garak's probes and buffs, PyRIT's converters and orchestrators):

* :class:`~trustgauge.attacks.base.Transform`: turns a request into the attacked request (a
  template around it, an encoding, fabricated dialogue turns, a translation by a model in the
  ``translator`` role) and, where the attack changes the answer's form, turns the answer back
  (:meth:`~trustgauge.attacks.base.Transform.recover`: decode, translate back) so that judges
  read plain text. Transforms chain: ``aim+base64`` applies ``aim`` then ``base64``.
* :class:`~trustgauge.attacks.base.IterativeAttack`: holds a conversation with the target driven
  by a model in the ``attacker`` role (PAIR, TAP, Crescendo), stopping on success.

Every model call goes through the task's :class:`~trustgauge.types.Chat` (the engine: cache,
retries, concurrency, token counts per role), so attacks are pure except through ``chat``.
The registry (:mod:`trustgauge.attacks.registry`) finds every module of this package.
"""
