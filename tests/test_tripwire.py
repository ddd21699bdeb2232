import pytest

from nivox.errors import NivoxError
from nivox.tripwire import TripWire, TripWireError, is_tripwire


def test_is_tripwire():
    assert not is_tripwire(object())
    assert not is_tripwire(3)
    assert is_tripwire(TripWire("no foo"))


def test_tripwire_raises_on_use():
    wire = TripWire("We do not have foo")
    with pytest.raises(TripWireError, match="We do not have foo"):
        wire.anything
    assert not hasattr(wire, "__wrapped__")  # an AttributeError, so hasattr is False
    with pytest.raises(NivoxError):
        wire.more


def test_optpkg_uses_the_same_classes():
    from nivox import optpkg

    assert optpkg.TripWire is TripWire and optpkg.TripWireError is TripWireError
