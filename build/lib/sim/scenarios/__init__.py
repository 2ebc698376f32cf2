"""Scenarios: the schema (no simulation code), loading, overrides and the shipped YAML."""
