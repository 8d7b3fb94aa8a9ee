"""Out-of-time splitting without leakage."""

from __future__ import annotations

import pandas as pd

from models.family import Split

__all__ = ["out_of_time_split"]


def out_of_time_split(frame: pd.DataFrame, time_column: str, holdout_fraction: float) -> Split:
    """Hold out the latest whole days, about ``holdout_fraction`` of the rows.

    The boundary is a day boundary, so no day contributes to both sides: orders of the
    same day share market conditions, and splitting inside a day would leak them.

    Raises
    ------
    ValueError
        If the fraction is outside (0, 1) or the data covers fewer than two days.
    """
    if not 0.0 < holdout_fraction < 1.0:
        raise ValueError(f"holdout_fraction must be in (0, 1), got {holdout_fraction}")
    days = frame[time_column].dt.floor("D")
    unique_days = days.drop_duplicates().sort_values()
    if len(unique_days) < 2:
        raise ValueError(
            f"an out-of-time split needs at least 2 days of data, got {len(unique_days)}"
        )
    share_before = days.value_counts(normalize=True).sort_index().cumsum()
    candidates = share_before.index[share_before <= 1.0 - holdout_fraction]
    last_train_day = candidates[-1] if len(candidates) else unique_days.iloc[0]
    boundary = last_train_day + pd.Timedelta(days=1)
    is_train = frame[time_column] < boundary
    return Split(
        train=frame.loc[is_train].reset_index(drop=True),
        holdout=frame.loc[~is_train].reset_index(drop=True),
        boundary=boundary,
    )
