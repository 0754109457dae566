"""Efficient training (notebook 16): exact measurements of what each technique buys, and LoRA."""
