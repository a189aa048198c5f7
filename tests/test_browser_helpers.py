"""tests/browser.py's free_port: ports that a server can bind, outside the kernel's range for
outgoing connections, never the same twice."""

from __future__ import annotations

import socket

import pytest
from browser import _GIVEN, _ephemeral_low, free_port


def test_free_ports_are_bindable_distinct_and_below_the_ephemeral_range():
    ports = [free_port() for _ in range(30)]
    assert len(set(ports)) == len(ports)
    assert all(20000 <= p < min(_ephemeral_low(), 32768) for p in ports)
    for p in ports[:5]:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            s.bind(("127.0.0.1", p))  # raises if it were taken


def _two_free_ports_in_a_row() -> int:
    for p in range(24000, 26000, 2):
        if p in _GIVEN or p + 1 in _GIVEN:  # handed out earlier in this process (a server's)
            continue
        try:
            with socket.socket() as a, socket.socket() as b:
                a.bind(("127.0.0.1", p))
                b.bind(("127.0.0.1", p + 1))
            return p
        except OSError:
            continue
    pytest.skip("no two free ports in a row between 24000 and 26000")


def test_a_port_in_use_or_given_before_is_never_handed_out():
    p = _two_free_ports_in_a_row()
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as held:
        held.bind(("127.0.0.1", p))
        held.listen()
        assert free_port(p, p + 2) == p + 1  # p is in use
        with pytest.raises(OSError, match="no free TCP port"):
            free_port(p, p + 2)  # p + 1 was handed out already
