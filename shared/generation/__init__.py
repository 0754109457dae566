"""Decoding and prompting (notebooks 12 and 14): logits transforms, generation and prompts."""
