"""Test-session settings: networks are cached in a folder of the session, not the user's."""

from __future__ import annotations

import pytest

from sim.network.cache import CACHE_ENV


@pytest.fixture(scope="session", autouse=True)
def network_cache(tmp_path_factory):
    """Point the network cache (and every command run in a subprocess) at a session folder."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(CACHE_ENV, str(tmp_path_factory.mktemp("network-cache")))
        yield
