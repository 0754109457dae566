"""Multimodal models (notebook 19): drawn shapes with captions, and CLIP in a LightningModule."""
