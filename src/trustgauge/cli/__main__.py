"""``python -m trustgauge.cli``."""

from trustgauge.cli import main

main()
