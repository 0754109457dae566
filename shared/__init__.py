"""The course package: small modules that notebooks import.

- ``shared.runtime``: profile (tiny/full), seed, Lightning hardware settings, run card.
- ``shared.models``: one way to load each model the course uses, in both profiles.
- ``shared.data``: the committed corpus and the sentiment data, as ``datasets`` and LightningDataModules.
- ``shared.modules``: reusable LightningModules.
- ``shared.layers``: Transformer building blocks written from their formulas.
- ``shared.plots``: the course's plots.
"""

__version__ = "0.1.0"
