"""Z3 proofs over the model's own formulas (never re-typed): ``perpspec prove`` runs them."""
