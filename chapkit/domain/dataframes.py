"""pandas is imported where a frame is made or read, never to start a service.

pandas (with numpy and, when installed, pyarrow) is most of a started service's memory, and a service
that has not trained or predicted yet holds no frame. So chapkit's modules name `pd.DataFrame` in
annotations only (imported under `TYPE_CHECKING`), import pandas inside the functions that build or
read frames, and ask `is_dataframe` instead of `isinstance(value, pd.DataFrame)`.
"""

from __future__ import annotations

import sys


def is_dataframe(value: object) -> bool:
    """Whether `value` is a pandas DataFrame, without importing pandas.

    A DataFrame can only exist once pandas has been imported, so when it has not, nothing is one.
    """
    pandas = sys.modules.get("pandas")
    return pandas is not None and isinstance(value, pandas.DataFrame)


__all__ = ["is_dataframe"]
