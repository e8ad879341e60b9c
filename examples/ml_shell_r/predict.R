# Predict: disease_cases for the future rows from the saved linear model.
# Usage: Rscript predict.R MODEL_FILE FUTURE_FILE OUTPUT_FILE (chapkit fills in the paths).
args <- commandArgs(trailingOnly = TRUE)
model <- readRDS(args[1])
future <- read.csv(args[2])
future$disease_cases <- round(predict(model, newdata = future), 2)
write.csv(future, args[3], row.names = FALSE)
