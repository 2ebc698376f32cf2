"""What attending achieves: resolution and familiarity, repeats, escalation, community work."""
