"""The browser app for students (``run_sim.py viz``): a Solara page around Mesa models.

It only reads the models (and books units' time up to now for the numbers): the core
(``sim.model`` and friends) never imports this package. Modules: ``controls`` (settings ->
scenarios), ``checks`` (warnings), ``appmodel`` (the per-session models), ``player`` (the play
loop), ``series`` (chart series, Mesa DataCollector), ``readouts`` (the summary figures so
far), ``style`` (palettes), ``mapview`` (the map's geometry and colours), ``charts`` (fast
matplotlib rendering), ``coverage_layer`` (streets by patrol passes), ``streetmap`` (the map as
data for the browser) and ``mapwidget`` (its front end, ``streetmap.js``: vectors drawn by the
browser, units moved along the streets), ``motion`` (the units' street paths), ``panels`` and
``app`` (the Solara page), ``info`` (help, en/zh).
"""
