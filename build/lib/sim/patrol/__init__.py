"""Patrol: what free units do between calls (policies, legs), what they cover, what they see.

A patrol is planned in legs (a path of several streets); the only event is the end of a leg
(or of a dwell at a hot spot). Positions in between are interpolated when someone asks.
"""
