"""The life of a call and the life of a unit, as event handlers (one per event kind).

``calls`` (``CallLife``): made, ready, dispatched, by phone, hung up, pre-empted, reached,
cleared; what the outcome rules decide happens inside (``sim.outcomes.rules``).
``units`` (``UnitLife``): sent to a call, done, home again. Both act for the model
(``sim.model.PatrolModel``), which holds the shared state and runs the event loop.
"""
