"""Data for `chapkit check`: generated from a service's declared inputs, a CSV, or the bundled samples."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import pandas as pd

from chapkit.domain.sample_data import periods_after

TARGET = "disease_cases"
LOCATIONS = ("district_a", "district_b")


@dataclass(frozen=True)
class CheckData:
    """A train body's data and a predict body's historic and future frames (`{"columns", "data"}`)."""

    source: str
    train: dict[str, Any]
    historic: dict[str, Any]
    future: dict[str, Any]


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
    """Train on the rows of a CSV that have the target; predict the rows without it (else the next periods).

    `ValueError` naming the file when it cannot be read or used.
    """
    try:
        return _from_csv(path, horizon)
    except (ValueError, UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        message = str(exc).strip() or type(exc).__name__
        raise ValueError(message if str(path) in message else f"{path}: {message}") from exc


def _from_csv(path: Path, horizon: int) -> CheckData:
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
    samples = resources.files("chapkit.demo").joinpath("samples")
    train = json.loads(samples.joinpath("train.json").read_text())
    predict = json.loads(samples.joinpath("predict.json").read_text())
    return CheckData("bundled samples", train["data"], predict["historic"], predict["future"])


__all__ = ["TARGET", "CheckData", "bundled", "from_csv", "generate", "periods_after"]
