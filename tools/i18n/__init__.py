"""The Chinese edition (中文版), kept in step with the English by construction.

    python -m tools.i18n status            # what needs translating: missing or stale cells, with the English text
    python -m tools.i18n stub              # add those entries to the catalogs as "[EN] <English>", to translate
    python -m tools.i18n build             # write zh/ from the English notebooks and the catalogs
    python -m tools.i18n check             # exit 1 on any drift (make test runs this as tests/test_i18n.py)

**One source for code.** Every notebook of the Chinese edition (``zh/weekN/*.ipynb``, ``zh/solutions/...``) is
generated from its English notebook: code cells byte-identical (outputs stay English), each markdown cell replaced
by its translation, the header generated from ``course.toml`` with the Chinese title and goals, the Colab badge
pointing at the Chinese notebook itself. The week READMEs and the landing page ``zh/README.md`` are generated too.

**Catalogs** (``i18n/zh/``): one Markdown file per English notebook, mirroring its path
(``i18n/zh/week1/03_scaled_dot_product_attention.md``), one entry per markdown cell::

    <!-- cell c00 en:1a2b3c4d5e6f -->
    注意力让每个词元（token）……

``en:`` is a hash of the English text the entry translates. ``i18n/zh/course.md`` holds the titles and goals
(``<!-- step week1/03_....ipynb en:... -->``: the title on the first line, one goal per ``- `` line) and the week
names; ``i18n/zh/README.md`` the learner-facing sections of the README.

**Drift is a failure.** ``check`` fails when an English cell changed since its translation was written (the hash
differs), when a cell has no translation, when a generated file differs from what ``build`` writes, or when a term of
the glossary (``i18n/zh/TERMINOLOGY.md``) appears in an English cell and its Chinese form does not appear in the
translation. ``status`` lists what to translate after an English change.
"""
