"""Scenarios: the schema (imports no simulation code), loading with extends and overrides, and the shipped YAML files."""
