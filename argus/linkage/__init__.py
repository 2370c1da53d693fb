"""Record linkage in the Fellegi-Sunter family: field comparisons with levels (person.py), m and
u probabilities per level estimated by EM and kept as a JSON model (model.py). Entity resolution
scores a mention against each candidate entity with them; the bench and `argus er train` fit them."""
