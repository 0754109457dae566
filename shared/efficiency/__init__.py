"""Efficient training (notebook 17): exact measurements of what each technique buys, and LoRA."""
