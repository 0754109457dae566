"""Evaluation (notebook 16): metrics from their definitions, calibration and the bootstrap."""
