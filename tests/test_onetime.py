import pytest

from nivox.errors import ExpiredDeprecationError
from nivox.onetime import OneTimeProperty, ResetMixin, auto_attr, setattr_on_read


class Halves(ResetMixin):
    calls = 0

    def __init__(self, x):
        self.x = x

    @auto_attr
    def half(self):
        Halves.calls += 1
        return self.x / 2

    @OneTimeProperty
    def third(self):
        return self.x / 3


def test_computed_once_then_reset():
    h = Halves(10)
    assert "half" not in h.__dict__
    assert h.half == 5 and h.half == 5
    assert Halves.calls == 1
    h.x = 20
    assert h.half == 5  # stored, not recomputed
    h.reset()  # third was never computed: reset must still work
    assert h.half == 10 and Halves.calls == 2


def test_setattr_on_read_expired():
    with pytest.raises(ExpiredDeprecationError, match="auto_attr"):
        setattr_on_read(lambda self: 1)
