"""RLHF (notebook 21): preference data and a reward model, DPO, and RLOO against the reward model."""
