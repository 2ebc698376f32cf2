"""Mesa agents of the patrol model."""
