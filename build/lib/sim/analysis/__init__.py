"""From runs to numbers: call records, metrics, replications with confidence intervals."""
