"""Ethics and fairness (notebook 17): counterfactual audits and a cheap word classifier."""
