"""The model code `chapkit init` writes: one model per template, each forecasting with real samples.

Every template's model learns a centre and a spread of `disease_cases` and predicts, for every future
row, `disease_cases` (the centre) and `sample_0` ... `sample_99`: 100 draws from a normal distribution
around it with the learned spread, cut at zero. chap-core reads the `sample_*` columns as the forecast's
distribution. The draws are seeded from the config and the future rows of the request, so the same
request gives the same samples (and a test can reproduce them); a different config or different future
rows give other draws. The `shell-r-tidyverse` model instead simulates 100 future paths of an ARIMA
model per location (R's forecast package), seeded the same way. Placeholders: `__PKG__` (the project's
Python package).
"""

from __future__ import annotations

N_SAMPLES = 100
"""Draws per future row (`sample_0` ... `sample_99`)."""

FN_MODEL = '''"""The model: train and predict as plain Python functions (they run on a worker thread).

Training learns, per location, the mean and the standard deviation of disease_cases over its last
`window` periods. Prediction gives every future row that mean (`disease_cases`) and 100 draws
(`sample_0` ... `sample_99`) from a normal distribution with that spread, cut at zero. The draws are
seeded from the config and the future rows, so the same request gives the same samples.
"""

from __future__ import annotations

import hashlib
from typing import Any

import numpy as np
import pandas as pd

from __PKG__.config import ModelConfig

TARGET = "disease_cases"
N_SAMPLES = 100
MIN_SPREAD = 1.0  # a floor on the standard deviation, so a constant series still gets a spread


def on_train(config: ModelConfig, data: pd.DataFrame, geo: Any = None) -> dict[str, Any]:
    """Learn each location's mean and standard deviation of disease_cases over its last `window` periods."""
    known = data.dropna(subset=[TARGET]).sort_values("time_period")
    recent = known.groupby("location").tail(config.window)
    if recent.empty:
        raise ValueError(f"the training data has no {TARGET} values")

    def centre_and_spread(values: pd.Series) -> list[float]:
        spread = float(values.std()) if len(values) > 1 else 0.0
        return [float(values.mean()), max(spread, MIN_SPREAD)]

    locations = {str(location): centre_and_spread(rows[TARGET]) for location, rows in recent.groupby("location")}
    return {"locations": locations, "overall": centre_and_spread(recent[TARGET])}


def request_seed(config: ModelConfig, future: pd.DataFrame) -> int:
    """The seed of a prediction's draws: a digest of the config and the future rows."""
    digest = hashlib.sha256(config.model_dump_json().encode())
    digest.update(future.to_csv(index=False).encode())
    return int.from_bytes(digest.digest()[:8], "big")


def on_predict(
    config: ModelConfig, model: dict[str, Any], historic: pd.DataFrame, future: pd.DataFrame, geo: Any = None
) -> pd.DataFrame:
    """Each future row's mean and 100 seeded draws (a location never seen gets the overall figures)."""
    learned = [model["locations"].get(str(location), model["overall"]) for location in future["location"]]
    centre = np.array([mean for mean, _ in learned], dtype=float).reshape(-1, 1)
    spread = np.array([sd for _, sd in learned], dtype=float).reshape(-1, 1)
    rng = np.random.default_rng(request_seed(config, future))
    draws = np.clip(rng.normal(centre, spread, size=(len(future), N_SAMPLES)), 0.0, None).round(2)
    out = pd.DataFrame(
        {
            "time_period": future["time_period"].astype(str).to_numpy(),
            "location": future["location"].astype(str).to_numpy(),
            TARGET: centre[:, 0].round(2),
        }
    )
    samples = pd.DataFrame(draws, columns=[f"sample_{index}" for index in range(N_SAMPLES)])
    return pd.concat([out, samples], axis=1)
'''

SHELL_PY_TRAIN = '''"""Train: python train.py CONFIG_JSON DATA_CSV MODEL_FILE.

Learns, per location, the mean and the standard deviation of disease_cases over its last `window`
periods (the config's option) and pickles them.
"""

import csv
import json
import math
import pickle
import statistics
import sys

MIN_SPREAD = 1.0  # a floor on the standard deviation, so a constant series still gets a spread


def number(text):
    """The value of a CSV cell, or None when it is empty or not a finite number."""
    try:
        value = float(text)
    except (TypeError, ValueError):
        return None
    return value if math.isfinite(value) else None


def centre_and_spread(values):
    spread = statistics.stdev(values) if len(values) > 1 else 0.0
    return [statistics.fmean(values), max(spread, MIN_SPREAD)]


config_file, data_file, model_file = sys.argv[1:4]
with open(config_file) as handle:
    window = int(json.load(handle).get("window", 12))
series = {}
with open(data_file, newline="") as handle:
    for row in sorted(csv.DictReader(handle), key=lambda row: row["time_period"]):
        cases = number(row.get("disease_cases"))
        if cases is not None:
            series.setdefault(row["location"], []).append(cases)
if not series:
    sys.exit("the training data has no disease_cases values")
recent = {location: values[-window:] for location, values in series.items()}
model = {
    "locations": {location: centre_and_spread(values) for location, values in recent.items()},
    "overall": centre_and_spread([value for values in recent.values() for value in values]),
}
with open(model_file, "wb") as handle:
    pickle.dump(model, handle)
'''

SHELL_PY_PREDICT = '''"""Predict: python predict.py CONFIG_JSON MODEL_FILE FUTURE_CSV OUTPUT_CSV.

Writes, per future row, the location's mean (`disease_cases`) and 100 draws (`sample_0` ...
`sample_99`) from a normal distribution with its spread, cut at zero. The draws are seeded from the
config and the future file, so the same request gives the same samples.
"""

import csv
import hashlib
import pickle
import random
import sys

N_SAMPLES = 100

config_file, model_file, future_file, output_file = sys.argv[1:5]
with open(model_file, "rb") as handle:
    model = pickle.load(handle)
digest = hashlib.sha256()
for path in (config_file, future_file):
    with open(path, "rb") as handle:
        digest.update(handle.read())
rng = random.Random(int.from_bytes(digest.digest()[:8], "big"))

samples = [f"sample_{index}" for index in range(N_SAMPLES)]
with open(future_file, newline="") as source, open(output_file, "w", newline="") as target:
    writer = csv.writer(target)
    writer.writerow(["time_period", "location", "disease_cases", *samples])
    for row in csv.DictReader(source):
        mean, spread = model["locations"].get(row["location"], model["overall"])
        draws = [round(max(rng.gauss(mean, spread), 0.0), 2) for _ in samples]
        writer.writerow([row["time_period"], row["location"], round(mean, 2), *draws])
'''

SHELL_R_TRAIN = """# Train: Rscript train.R CONFIG_JSON DATA_CSV MODEL_RDS
# A linear model of disease_cases on rainfall and mean_temperature, fitted on each location's last
# `window` periods (the config's option); its residual standard error is the spread of the samples.
args <- commandArgs(trailingOnly = TRUE)

# One scalar option from the config file chapkit writes (JSON), or `default` when it is not there.
config_value <- function(path, name, default) {
  text <- paste(readLines(path, warn = FALSE), collapse = "\\n")
  pattern <- sprintf('"%s"[[:space:]]*:[[:space:]]*("[^"]*"|[^],}[:space:]]+)', name)
  found <- regmatches(text, regexec(pattern, text))[[1]]
  if (length(found) < 2) return(default)
  value <- gsub('^"|"$', "", found[2])
  if (is.numeric(default)) as.numeric(value) else value
}

covariates <- c("rainfall", "mean_temperature")
window <- config_value(args[1], "window", 12)
data <- read.csv(args[2])
data <- data[!is.na(data$disease_cases), ]
data <- data[order(data$location, data$time_period), ]
recent <- do.call(rbind, lapply(split(data, data$location), function(rows) tail(rows, window)))
fit <- lm(disease_cases ~ rainfall + mean_temperature, data = recent)
spread <- summary(fit)$sigma
if (!is.finite(spread) || spread < 1) spread <- 1  # a floor, so an exact fit still gets a spread
model <- list(fit = fit, spread = spread, means = colMeans(recent[, covariates], na.rm = TRUE))
saveRDS(model, args[3])
"""

SHELL_R_PREDICT = """# Predict: Rscript predict.R CONFIG_JSON MODEL_RDS FUTURE_CSV OUTPUT_CSV
# Per future row: the fitted mean (disease_cases) and 100 draws (sample_0 ... sample_99) from a normal
# distribution with the model's residual standard error, cut at zero. The draws are seeded from the
# config and the future file, so the same request gives the same samples.
args <- commandArgs(trailingOnly = TRUE)
n_samples <- 100
model <- readRDS(args[2])
future <- read.csv(args[3])
for (column in names(model$means)) {  # a missing covariate is taken as its training mean
  future[[column]][is.na(future[[column]])] <- model$means[[column]]
}
mean_cases <- pmax(unname(predict(model$fit, newdata = future)), 0)
digests <- unname(tools::md5sum(c(args[1], args[3])))
set.seed(sum(strtoi(substr(digests, 1, 7), 16L)))
draws <- matrix(rnorm(nrow(future) * n_samples, mean = mean_cases, sd = model$spread), ncol = n_samples)
draws <- round(pmax(draws, 0), 2)
colnames(draws) <- paste0("sample_", seq_len(n_samples) - 1)
output <- data.frame(
  time_period = future$time_period, location = future$location, disease_cases = round(mean_cases, 2),
  draws, check.names = FALSE
)
write.csv(output, args[4], row.names = FALSE)
"""

SHELL_R_TIDYVERSE_TRAIN = r"""# Train: Rscript train.R CONFIG_JSON DATA_CSV MODEL_RDS
# Per location, a regression of disease_cases on rainfall and mean_temperature with ARIMA errors
# (forecast::auto.arima), fitted on the location's last `window` periods (the config's option).
suppressPackageStartupMessages({
  library(dplyr)
  library(readr)
  library(forecast)
})
args <- commandArgs(trailingOnly = TRUE)
covariates <- c("rainfall", "mean_temperature")

# One scalar option from the config file chapkit writes (JSON), or `default` when it is not there.
config_value <- function(path, name, default) {
  text <- paste(readLines(path, warn = FALSE), collapse = "\n")
  pattern <- sprintf('"%s"[[:space:]]*:[[:space:]]*("[^"]*"|[^],}[:space:]]+)', name)
  found <- regmatches(text, regexec(pattern, text))[[1]]
  if (length(found) < 2) return(default)
  value <- gsub('^"|"$', "", found[2])
  if (is.numeric(default)) as.numeric(value) else value
}

# An ARIMA model of `cases` with the covariates as regressors; without them when that cannot be fitted.
fit_arima <- function(cases, regressors) {
  fit <- tryCatch(auto.arima(cases, xreg = regressors), error = function(e) NULL)
  if (is.null(fit)) fit <- auto.arima(cases)
  fit
}

window <- config_value(args[1], "window", 12)
data <- read_csv(args[2], show_col_types = FALSE) |>
  filter(!is.na(disease_cases)) |>
  arrange(location, time_period)
means <- data |> summarise(across(all_of(covariates), \(x) mean(x, na.rm = TRUE)))
fits <- list()
for (place in unique(data$location)) {
  recent <- data |> filter(location == place) |> slice_tail(n = window)
  fits[[place]] <- fit_arima(recent$disease_cases, as.matrix(recent[covariates]))
}
saveRDS(list(fits = fits, window = window, means = unlist(means)), args[3])
"""

SHELL_R_TIDYVERSE_PREDICT = r"""# Predict: Rscript predict.R CONFIG_JSON MODEL_RDS HISTORIC_CSV FUTURE_CSV OUTPUT_CSV
# Per location, the trained ARIMA model applied to the location's latest `window` periods of history,
# then 100 simulated future paths (sample_0 ... sample_99, cut at zero) and the model's mean forecast
# (disease_cases). The draws are seeded from the config and the future file: the same request gives
# the same samples.
suppressPackageStartupMessages({
  library(dplyr)
  library(readr)
  library(tidyr)
  library(forecast)
})
args <- commandArgs(trailingOnly = TRUE)
n_samples <- 100
covariates <- c("rainfall", "mean_temperature")
model <- readRDS(args[2])
fill <- function(frame) {  # a missing covariate is taken as its training mean
  for (column in covariates) frame[[column]][is.na(frame[[column]])] <- model$means[[column]]
  frame
}
historic <- read_csv(args[3], show_col_types = FALSE) |>
  filter(!is.na(disease_cases)) |>
  arrange(location, time_period) |>
  fill()
future <- read_csv(args[4], show_col_types = FALSE) |> fill()
digests <- unname(tools::md5sum(c(args[1], args[4])))
set.seed(sum(strtoi(substr(digests, 1, 7), 16L)))

forecast_location <- function(rows, place) {
  recent <- historic |> filter(location == place) |> slice_tail(n = model$window)
  trained <- model$fits[[place]]
  uses_regressors <- !is.null(trained) && !is.null(trained$xreg)
  regressors <- if (uses_regressors) as.matrix(recent[covariates]) else NULL
  future_regressors <- if (uses_regressors) as.matrix(rows[covariates]) else NULL
  fit <- if (is.null(trained)) auto.arima(recent$disease_cases) else
    Arima(recent$disease_cases, xreg = regressors, model = trained)
  horizon <- nrow(rows)
  mean_cases <- as.numeric(forecast(fit, h = horizon, xreg = future_regressors)$mean)
  paths <- replicate(n_samples, as.numeric(simulate(fit, nsim = horizon, xreg = future_regressors, future = TRUE)))
  paths <- matrix(paths, nrow = horizon)
  tibble(
    time_period = rows$time_period, location = place, disease_cases = round(pmax(mean_cases, 0), 2),
    sample = list(seq_len(n_samples) - 1), value = split(round(pmax(paths, 0), 2), row(paths))
  )
}

output <- future |>
  group_by(location) |>
  group_modify(\(rows, key) forecast_location(rows, key$location) |> select(-location)) |>
  ungroup() |>
  unnest(c(sample, value)) |>
  pivot_wider(names_from = sample, values_from = value, names_prefix = "sample_")
order <- match(paste(future$location, future$time_period), paste(output$location, output$time_period))
output <- output[order, c("time_period", "location", "disease_cases", paste0("sample_", seq_len(n_samples) - 1))]
write_csv(output, args[5])
"""

__all__ = [
    "FN_MODEL",
    "N_SAMPLES",
    "SHELL_PY_PREDICT",
    "SHELL_PY_TRAIN",
    "SHELL_R_PREDICT",
    "SHELL_R_TIDYVERSE_PREDICT",
    "SHELL_R_TIDYVERSE_TRAIN",
    "SHELL_R_TRAIN",
]
