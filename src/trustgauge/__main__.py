"""``python -m trustgauge``: the ``trustgauge`` command line."""

from trustgauge.cli import main

main()
