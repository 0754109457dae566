"""RLHF (notebook 22): preference data and a reward model, DPO, and RLOO against the reward model."""
