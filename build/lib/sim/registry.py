"""Registries of plug-ins chosen by name: dispatch policies, patrol policies, outcome rules.

One type for all three. A registry knows the module that registers its shipped entries and
imports it the first time it is read, so a scenario check (``sim.scenarios``, which imports
no simulation code) sees every shipped name and every name registered before the check runs,
without importing anything upward itself. An entry may carry *traits*: what other parts
need to know about it (e.g. the unit order Larson's hypercube uses for a dispatch policy).
A part that needs a trait an entry does not declare says so (``Entry.trait``) instead of
guessing.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from sim.errors import SimInputError


@dataclass(frozen=True)
class Entry:
    """One registered plug-in: its name, the object itself and its declared traits."""

    kind: str
    name: str
    value: Any
    traits: dict[str, Any] = field(default_factory=dict)

    def trait(self, key: str, needed_by: str) -> Any:
        """The declared trait ``key``; a clear error when ``needed_by`` cannot do without it."""
        if self.traits.get(key) is None:
            raise SimInputError(
                f"{needed_by} cannot model {self.kind} {self.name!r}: it declares no {key!r} "
                f"(register it with {key}=...)"
            )
        return self.traits[key]


class Registry:
    """Plug-ins of one kind by name, in the order they were registered."""

    def __init__(self, kind: str, shipped_in: str):
        """``shipped_in``: the module whose import registers the shipped entries."""
        self.kind = kind
        self.shipped_in = shipped_in
        self._entries: dict[str, Entry] = {}
        self._loaded = False

    def _load(self) -> None:
        if not self._loaded:
            self._loaded = True
            importlib.import_module(self.shipped_in)

    def register(self, name: str, **traits: Any) -> Callable[[Any], Any]:
        """A decorator: register its object under ``name`` with ``traits``."""
        self._load()  # the shipped entries first

        def add(value: Any) -> Any:
            self._entries[name] = Entry(self.kind, name, value, dict(traits))
            return value

        return add

    def unregister(self, name: str) -> None:
        """Forget ``name`` (e.g. a test's temporary entry)."""
        self._entries.pop(name, None)

    def names(self) -> tuple[str, ...]:
        """Every registered name, in registration order."""
        self._load()
        return tuple(self._entries)

    def entry(self, name: str) -> Entry:
        """The entry registered under ``name``."""
        self._load()
        try:
            return self._entries[name]
        except KeyError:
            raise KeyError(self.unknown(name)) from None

    def __getitem__(self, name: str) -> Any:
        return self.entry(name).value

    def __contains__(self, name: object) -> bool:
        self._load()
        return name in self._entries

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())

    def get(self, name: str, default: Any = None) -> Any:
        """The object registered under ``name``, or ``default``."""
        return self[name] if name in self else default

    def unknown(self, name: str) -> str:
        """The message for a name nobody registered."""
        return f"unknown {self.kind} {name!r}; known: {', '.join(sorted(self.names()))}"

    def check(self, name: str) -> str:
        """``name`` if registered (a scenario check), else ValueError naming the known ones."""
        if name not in self:
            raise ValueError(self.unknown(name))
        return name


DISPATCH_POLICIES = Registry("dispatch policy", "sim.dispatch.policies")
PATROL_POLICIES = Registry("patrol policy", "sim.patrol.policies")
OUTCOME_RULES = Registry("outcome rule", "sim.outcomes.rules")
