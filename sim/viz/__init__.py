"""The browser app for students (``run_sim.py viz``): a Mesa SolaraViz page.

It only reads the model: the core (``sim.model`` and friends) never imports this package.
Modules: ``controls`` (page controls -> scenarios), ``appmodel`` (the per-session model that
SolaraViz drives), ``series`` (live figures), ``mapview`` and ``charts`` (fast matplotlib
rendering), ``app`` (the Solara page).
"""
