"""Train: the mean `disease_cases` per location, written as JSON.

Usage: python train.py CONFIG_FILE DATA_FILE MODEL_FILE (chapkit fills in the paths). Standard library
only, so any Python runs it.
"""

import csv
import json
import sys
from collections import defaultdict


def main(config_file: str, data_file: str, model_file: str) -> None:
    """Read the config and the training CSV; write the model file."""
    with open(config_file, encoding="utf-8") as stream:
        config = json.load(stream)
    totals: dict[str, list[float]] = defaultdict(list)
    with open(data_file, newline="", encoding="utf-8") as stream:
        for row in csv.DictReader(stream):
            totals[row["location"]].append(float(row["disease_cases"]))
    means = {location: sum(values) / len(values) for location, values in totals.items()}
    with open(model_file, "w", encoding="utf-8") as stream:
        json.dump({"means": means, "scale": config.get("scale", 1.0)}, stream)
    print(f"trained on {sum(map(len, totals.values()))} rows")  # the job's log keeps stdout


if __name__ == "__main__":
    main(*sys.argv[1:4])
