"""Named, versioned aggregators (see :mod:`trustgauge.stats.aggregators.registry`)."""

from trustgauge.stats.aggregators.registry import (
    ENTRY_POINT_GROUP as ENTRY_POINT_GROUP,
)
from trustgauge.stats.aggregators.registry import (
    AggregatorFn as AggregatorFn,
)
from trustgauge.stats.aggregators.registry import (
    Params as Params,
)
from trustgauge.stats.aggregators.registry import (
    Scored as Scored,
)
from trustgauge.stats.aggregators.registry import (
    UnknownAggregator as UnknownAggregator,
)
from trustgauge.stats.aggregators.registry import (
    aggregate as aggregate,
)
from trustgauge.stats.aggregators.registry import (
    get_aggregator as get_aggregator,
)
from trustgauge.stats.aggregators.registry import (
    known_aggregators as known_aggregators,
)
from trustgauge.stats.aggregators.registry import (
    register_aggregator as register_aggregator,
)
