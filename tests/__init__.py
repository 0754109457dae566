"""The course's tests: a regular package, so that no other top-level `tests` on sys.path shadows it (IPython 7,
Colab's, puts IPython/extensions on sys.path, and that folder holds a `tests` package)."""
