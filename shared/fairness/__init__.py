"""Ethics and fairness (notebook 18): counterfactual audits and a cheap word classifier."""
