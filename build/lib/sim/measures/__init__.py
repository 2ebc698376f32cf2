"""What a run measured: its call records (one row per call) and their summary figures."""
