"""Optional extras: the error a feature raises when the packages of its extra are not installed."""

from __future__ import annotations


class MissingExtraError(ImportError):
    """A feature needs an optional extra that is not installed; the message is one line with the `pip install`."""

    def __init__(self, feature: str, extra: str, *, missing: str | None = None, detail: str | None = None) -> None:
        self.feature = feature
        self.extra = extra
        what = f" ({detail})" if detail else ""
        module = f" (missing module: {missing})" if missing else ""
        super().__init__(
            f"{feature} needs the '{extra}' extra{what}: pip install 'chapkit[{extra}]'{module}", name=missing
        )


__all__ = ["MissingExtraError"]
