"""Consumer groups: the classic group coordinator and committed offsets."""
