"""Evaluation (notebook 15): metrics from their definitions, calibration and the bootstrap."""
