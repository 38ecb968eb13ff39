"""Accuracy predictors: a random forest on arch features (AttentiveNAS Sec. 4, the FBNetV3
baseline) and the FBNetV3 encoder + proxy head + accuracy head predictor."""
