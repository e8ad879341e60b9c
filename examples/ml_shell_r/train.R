# Train: a linear model of disease_cases on rainfall and mean_temperature, saved with saveRDS.
# Usage: Rscript train.R DATA_FILE MODEL_FILE (chapkit fills in the paths). Base R only.
args <- commandArgs(trailingOnly = TRUE)
data <- read.csv(args[1])
model <- lm(disease_cases ~ rainfall + mean_temperature, data = data)
saveRDS(model, args[2])
cat("trained on", nrow(data), "rows\n")
