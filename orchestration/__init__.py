"""The Dagster code location: the only package that imports Dagster."""

import warnings

from dagster import BetaWarning

# BackfillPolicy is beta in Dagster 1.13 but is the library's way to load a range of days in one
# run; the warning would otherwise repeat once per raw asset on every load of the code location.
warnings.filterwarnings("ignore", category=BetaWarning)
