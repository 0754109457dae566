"""The course package: small modules that notebooks import.

- ``shared.runtime``: profile (tiny/full), seed, Lightning hardware settings, run card.
- ``shared.models``: one way to load each model the course uses, in both profiles.
- ``shared.data``: the committed corpus and the sentiment data, as ``datasets`` and LightningDataModules.
- ``shared.layers``: Transformer building blocks written from their formulas.
- ``shared.modules``: reusable LightningModules (encoder forward pass, causal LM, sentiment classifier).
- ``shared.tasks``: small synthetic sequence tasks and a switchable model for week 2.
- ``shared.callbacks``: ``History``, the logged metrics for plots and asserts.
- ``shared.inference``: ``predict_sentiment`` with input checks.
- ``shared.plots``: the course's plots.
"""

__version__ = "0.1.0"
