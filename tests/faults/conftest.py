"""tests/faults: every test here injects a fault; the registry is restored after each test so
the test-only plugins they install never leak into other tests."""
import pytest


@pytest.fixture(autouse=True)
def restore_registry():
    from engine import registry

    registry.discover()  # built-ins load once per process: snapshot them, never undo them
    entries = {kind: dict(found) for kind, found in registry._entries.items()}
    failures, homes = list(registry._failures), set(registry._discovered_homes)
    untrusted = list(registry._untrusted)
    yield
    for kind, found in entries.items():
        registry._entries[kind].clear()
        registry._entries[kind].update(found)
    registry._failures[:] = failures
    registry._untrusted[:] = untrusted
    registry._discovered_homes.clear()
    registry._discovered_homes.update(homes)
