"""The planner's own data in: calls tables (replay and fit) and places from GIS files.

Modules here import pandas, pyproj and geopandas; nothing in the core imports them at start-up
(the model imports ``sim.calls.replay`` only when a scenario replays a table).
"""
