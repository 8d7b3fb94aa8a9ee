"""Pre-trade market-impact model family."""

from models.impact.family import HORIZON_GRID_MINUTES, ImpactFamily
from models.impact.features import FEATURES, impact_features, sqrt_law_features

__all__ = [
    "FEATURES",
    "HORIZON_GRID_MINUTES",
    "ImpactFamily",
    "impact_features",
    "sqrt_law_features",
]
