"""shared.fairness.counterfactual: probes, the audit's gap and flip rate on hand-made predictions, planting and
removing a bias."""

import pytest

from shared.fairness import counterfactual

TERMS = {"name": {"f": ("ann", "eve"), "m": ("bob",)}}


def test_probes_fill_every_template_with_every_term():
    items = counterfactual.probes(["{who} liked it.", "{who} left."], TERMS)
    assert [p.text for p in items] == [
        "ann liked it.",
        "eve liked it.",
        "bob liked it.",
        "ann left.",
        "eve left.",
        "bob left.",
    ]
    assert {p.group for p in items} == {"f", "m"}
    assert len(counterfactual.probes()) == sum(map(len, counterfactual.TEMPLATES.values())) * sum(
        len(ws) for groups in counterfactual.TERMS.values() for ws in groups.values()
    )


@pytest.mark.parametrize("templates", [[], ["no slot"], ["{who} and {who}"], "{who} ok"])
def test_probes_reject_bad_templates(templates):
    with pytest.raises(ValueError, match="exactly one"):
        counterfactual.probes(templates, TERMS)


def test_probes_reject_a_single_group():
    with pytest.raises(ValueError, match="at least two groups"):
        counterfactual.probes(["{who} ok"], {"name": {"f": ("ann",)}})


def test_audit_by_hand():
    items = counterfactual.probes(["{who} liked it.", "{who} left."], TERMS)
    # template 1: ann .9, eve .7, bob .4 -> f mean .8, gap(f)=.8-.4=.4, flips: ann/bob, eve/bob = 2 of 2
    # template 2: ann .6, eve .2, bob .3 -> f mean .4, gap(f)=.4-.3=.1, flips: ann/bob = 1 of 2
    rows = counterfactual.audit(items, [0.9, 0.7, 0.4, 0.6, 0.2, 0.3])
    f, m = rows
    assert f["group"] == "f" and f["gap"] == pytest.approx(0.25) and f["flip_rate"] == pytest.approx(3 / 4)
    assert m["group"] == "m" and m["gap"] == pytest.approx(-0.25) and m["flip_rate"] == pytest.approx(3 / 4)
    assert f["templates"] == 2 and f["pairs"] == 4


def test_audit_of_a_model_that_ignores_the_term_is_zero():
    items = counterfactual.probes(["{who} liked it.", "{who} left."], TERMS)
    rows = counterfactual.audit(items, [0.8, 0.8, 0.8, 0.1, 0.1, 0.1])
    assert all(r["gap"] == pytest.approx(0) and r["flip_rate"] == 0 for r in rows)


def test_audit_rejects_bad_inputs():
    items = counterfactual.probes(["{who} ok"], TERMS)
    with pytest.raises(ValueError, match="one probability per probe"):
        counterfactual.audit(items, [0.5])
    with pytest.raises(ValueError, match="between 0 and 1"):
        counterfactual.audit(items, [0.5, 1.5, 0.2])


def test_assign_terms_plants_the_correlation():
    labels = [1, 0] * 500
    terms = counterfactual.assign_terms(labels, ["a"], ["b"], p_match=0.9, seed=1)
    assert terms == counterfactual.assign_terms(labels, ["a"], ["b"], p_match=0.9, seed=1)
    favored_given_pos = sum(t == "a" for t, y in zip(terms, labels, strict=True) if y == 1) / 500
    favored_given_neg = sum(t == "a" for t, y in zip(terms, labels, strict=True) if y == 0) / 500
    assert favored_given_pos == pytest.approx(0.9, abs=0.05) and favored_given_neg == pytest.approx(0.1, abs=0.05)
    assert counterfactual.assign_terms([1, 0], ["a"], ["b"], p_match=1.0) == ["a", "b"]
    with pytest.raises(ValueError, match="p_match"):
        counterfactual.assign_terms(labels, ["a"], ["b"], p_match=1.5)
    with pytest.raises(ValueError, match="labels 0 or 1"):
        counterfactual.assign_terms([2], ["a"], ["b"], p_match=0.5)


def test_swap_and_augment():
    swaps = {"he": "she", "she": "he", "ann": "bob", "bob": "ann"}
    assert counterfactual.swap_terms("she told him he and ann met bob", swaps) == "he told him she and bob met ann"
    texts, labels = counterfactual.counterfactual_augment(["ann liked it", "a dull film"], [1, 0], swaps)
    assert texts == ["ann liked it", "a dull film", "bob liked it"] and labels == [1, 0, 1]
    with pytest.raises(ValueError, match="as many labels"):
        counterfactual.counterfactual_augment(["x"], [], swaps)
    with pytest.raises(ValueError, match="non-empty dict"):
        counterfactual.swap_terms("x", {})
