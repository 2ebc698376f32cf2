"""Parameter sweeps: spec, designs, ledger, executors, driver and sensitivity analysis."""
