"""The course package: the platform every notebook uses (profile, trainer, data, models, plots) at the top level,
each lesson's own code in a module or sub-package named after its topic. The map of every module, with the notebooks
that use it, is ``shared/README.md``."""

__version__ = "0.1.0"
