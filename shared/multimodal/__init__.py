"""Multimodal models (notebook 18): drawn shapes with captions, and CLIP in a LightningModule."""
