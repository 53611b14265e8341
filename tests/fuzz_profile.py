"""How hard the fuzz properties (tests/test_fuzz_*.py) try: a short run in CI, long runs from
`scripts/fuzz` (HOMEAGENT_FUZZ=long), chosen by environment so both run the same properties."""

from __future__ import annotations

import os
from datetime import timedelta

from hypothesis import HealthCheck, settings

LONG = os.environ.get("HOMEAGENT_FUZZ") == "long"

# The deadline is there to catch a hang (a regex gone quadratic, a loop that never ends), not to
# time anything: it is generous, so a busy 2-core machine does not make it fail.
FUZZ = settings(
    max_examples=int(os.environ.get("HOMEAGENT_FUZZ_EXAMPLES", "2000" if LONG else "150")),
    deadline=timedelta(seconds=10 if LONG else 5),
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    print_blob=True,
)
"""Settings for every fuzz property: apply as `@FUZZ` above `@given`."""
