"""Checked exercises: one module per lesson, named after its topic (``attention`` serves lesson 03), each a list of
``Exercise`` objects and the ``check``, ``hint`` and ``solution`` a notebook imports. The layer: ``core``."""
