"""Data for `chapkit check`: generated from a service's declared inputs, a CSV, or the bundled samples."""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from datetime import date, timedelta
from importlib import resources
from pathlib import Path
from typing import Any

import pandas as pd

TARGET = "disease_cases"
LOCATIONS = ("district_a", "district_b")
_WEEK = re.compile(r"^(\d{4})-?W(\d{2})$")
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")


@dataclass(frozen=True)
class CheckData:
    """A train body's data and a predict body's historic and future frames (`{"columns", "data"}`)."""

    source: str
    train: dict[str, Any]
    historic: dict[str, Any]
    future: dict[str, Any]


def periods_after(period: str, count: int) -> list[str]:
    """The `count` periods after `period` ("2024-12" -> "2025-01", ...; "2024-W52" -> "2025-W01", ...)."""
    if match := _WEEK.match(period):
        start = date.fromisocalendar(int(match[1]), int(match[2]), 1)
        days = [start + timedelta(weeks=step) for step in range(1, count + 1)]
        return [f"{day.isocalendar().year}-W{day.isocalendar().week:02d}" for day in days]
    if match := _MONTH.match(period):
        index = int(match[1]) * 12 + int(match[2]) - 1
        return [f"{(index + step) // 12}-{(index + step) % 12 + 1:02d}" for step in range(1, count + 1)]
    raise ValueError(f"{period!r} is neither a month (2024-01) nor an ISO week (2024-W01)")


_WEEKLY = frozenset({"weekly", "week"})  # the info's value, and its older alias


def _first_period(period_type: str) -> str:
    return "2021-W52" if period_type in _WEEKLY else "2021-12"


def _frame(frame: pd.DataFrame) -> dict[str, Any]:
    records = json.loads(frame.to_json(orient="split", index=False))
    return {"columns": records["columns"], "data": records["data"]}


def generate(covariates: list[str], period_type: str, history: int = 24, horizon: int = 3) -> CheckData:
    """Seasonal data for two locations with the given covariates and a target that follows them."""
    rows = []
    for offset, location in enumerate(LOCATIONS):
        for step, period in enumerate(periods_after(_first_period(period_type), history + horizon)):
            angle = 2 * math.pi * step / (52 if period_type in _WEEKLY else 12)
            # A different phase and wobble per covariate, so no two columns are collinear.
            values = [
                round(50 + 30 * math.sin(angle + position) + 10 * offset + 4 * ((step * 7 + position * 3) % 5), 1)
                for position in range(len(covariates))
            ]
            cases = round(10 + 0.4 * sum(values) / max(len(values), 1), 1) if step < history else None
            rows.append([period, location, *values, cases])
    frame = pd.DataFrame(rows, columns=["time_period", "location", *covariates, TARGET])
    known = frame[frame[TARGET].notna()]
    future = frame[frame[TARGET].isna()].drop(columns=[TARGET])
    return CheckData("generated from the service's covariates", _frame(known), _frame(known), _frame(future))


def from_csv(path: Path, horizon: int = 3) -> CheckData:
    """Train on the rows of a CSV that have the target; predict the rows without it (else the next periods)."""
    frame = pd.read_csv(path, dtype={"time_period": str})
    missing = {"time_period", "location"} - set(frame.columns)
    if missing:
        raise ValueError(f"{path} has no {', '.join(sorted(missing))} column")
    if TARGET not in frame.columns:
        raise ValueError(f"{path} has no {TARGET} column to train on")
    known = frame[frame[TARGET].notna()]
    future = frame[frame[TARGET].isna()].drop(columns=[TARGET])
    if future.empty:
        last = known.sort_values("time_period").groupby("location").tail(1)
        extra = []
        for _, row in last.iterrows():
            for period in periods_after(str(row["time_period"]), horizon):
                extra.append({**row.drop(labels=[TARGET]).to_dict(), "time_period": period})
        future = pd.DataFrame(extra)
    return CheckData(f"from {path.name}", _frame(known), _frame(known), _frame(future))


def bundled() -> CheckData:
    """The sample bodies that ship with chapkit (the demo service's rainfall and temperature data)."""
    samples = resources.files("chapkit.bootstrap").joinpath("samples")
    train = json.loads(samples.joinpath("train.json").read_text())
    predict = json.loads(samples.joinpath("predict.json").read_text())
    return CheckData("bundled samples", train["data"], predict["historic"], predict["future"])


__all__ = ["TARGET", "CheckData", "bundled", "from_csv", "generate", "periods_after"]
