"""`logquake verify`: the claims matrix, run cell by cell, each cell's outcome judged against the claim model."""
