"""tools/authoring/prose.py: a number quoted in a lesson's text must be printed by the run or held by its code."""

from tools.authoring.prose import quoted, unfound


def notebook(markdown: str, code: str = "", printed: str = "") -> dict:
    return {
        "cells": [
            {"cell_type": "markdown", "id": "header", "source": "# 01 · Title 2026, 45 minutes"},
            {"cell_type": "code", "id": "c1", "source": code, "outputs": [{"output_type": "stream", "text": printed}]},
            {"cell_type": "markdown", "id": "m1", "source": markdown},
        ]
    }


def test_a_printed_number_is_found_at_the_quoted_precision():
    nb = notebook("The model reaches 93.3% against 50%.", code="baseline = 0.5", printed="test accuracy 0.9333\n")
    assert unfound(nb) == []


def test_a_number_neither_printed_nor_coded_is_reported():
    nb = notebook("Loss falls to 1.87 nats, a whole nat below 2.83.", printed="val loss 1.87\n")
    problems = unfound(nb)
    assert len(problems) == 1 and "'2.83'" in problems[0] and problems[0].startswith("m1:")


def test_what_is_not_a_measurement_is_left_out():
    text = (
        "Since 2017 (notebook 10, week 3) $\\sqrt{d_k} = 8$ and `lr = 3e-4`: GPT-2 has 124M parameters, "
        "torch 2.13.0, 4 heads of 8.\n## 3. A heading 1.5\n1. a list item"
    )
    assert quoted(text) == []
    assert unfound(notebook("## Recap\n\nDone.\n\n## Exercises\n\n1. Try a learning rate of 0.123.")) == []


def test_thousands_and_fractions_match():
    nb = notebook("1,976 sentences; 0.98 of them; 27.1% vs 17.2%", printed="1976 sentences 98.0% 0.271 0.172")
    assert unfound(nb) == []


def test_draft_in_any_sense_is_machinery_and_guess_is_not():
    from tools.authoring.prose import machinery

    flagged = notebook("The course's first draft had only the T = 1 case; in a draft of this lesson we tried more.")
    assert len(machinery(flagged)) == 2
    assert len(machinery(notebook("A cheap draft proposes k tokens; the drafted tokens are checked."))) == 2
    lesson = notebook("A cheap guess proposes k tokens; an assistant model shares the tokenizer; a token is accepted.")
    assert machinery(lesson) == []
