"""Decoding and prompting (notebooks 13 and 15): logits transforms, generation and prompts."""
