"""The course's two small synthetic datasets, written for it (no existing corpus is copied).

    python -m tools.data            # writes shared/assets/
    python -m tools.data --out DIR  # writes DIR/ instead

* ``corpus.txt``, ``corpus_categories.json``: a small English corpus about a village "world" for the language-model
  and word-embedding notebooks, and its category words (``corpus.py``);
* ``sentiment/{train,validation,test}.jsonl`` and ``sentiment/README.md``: a tiny movie-review set in the IMDB schema
  where word order matters, and its data card (``reviews.py``, ``sentiment_card.md``).

The word lists are in ``words.py``. One ``random.Random(0)`` drives everything: running it twice gives
byte-identical files. Pure standard library; well under a second.
"""
