"""Predict: every future row gets its location's mean, times the config's scale.

Usage: python predict.py MODEL_FILE FUTURE_FILE OUTPUT_FILE (chapkit fills in the paths).
"""

import csv
import json
import sys


def main(model_file: str, future_file: str, output_file: str) -> None:
    """Read the model and the future CSV; write the predictions CSV."""
    with open(model_file, encoding="utf-8") as stream:
        model = json.load(stream)
    with open(future_file, newline="", encoding="utf-8") as stream:
        rows = list(csv.DictReader(stream))
    if not rows:
        sys.exit("no future rows to predict")
    with open(output_file, "w", newline="", encoding="utf-8") as stream:
        writer = csv.DictWriter(stream, fieldnames=[*rows[0].keys(), "disease_cases"])
        writer.writeheader()
        for row in rows:
            mean = model["means"].get(row["location"], 0.0)
            writer.writerow({**row, "disease_cases": round(mean * model["scale"], 2)})


if __name__ == "__main__":
    main(*sys.argv[1:4])
