from __future__ import annotations

import ipaddress

import pytest

from leadcap.intake.clientip import bucket, client_address

PROXIES = (ipaddress.ip_network("10.0.0.0/8"),)


def test_untrusted_peer_is_the_client_whatever_it_forwards() -> None:
    assert str(client_address("203.0.113.9", "1.2.3.4", ())) == "203.0.113.9"
    assert str(client_address("203.0.113.9", "1.2.3.4", PROXIES)) == "203.0.113.9"


def test_trusted_proxy_chain_is_read_from_the_right() -> None:
    # The client wrote "1.2.3.4" itself; our proxy appended the real peer 198.51.100.7.
    assert str(client_address("10.0.0.2", "1.2.3.4, 198.51.100.7", PROXIES)) == "198.51.100.7"
    assert str(client_address("10.0.0.2", "198.51.100.7, 10.0.0.5", PROXIES)) == "198.51.100.7"


def test_garbled_chain_stops_at_last_good_hop() -> None:
    assert str(client_address("10.0.0.2", "nonsense", PROXIES)) == "10.0.0.2"
    assert str(client_address("10.0.0.2", None, PROXIES)) == "10.0.0.2"


@pytest.mark.parametrize(
    ("a", "b"),
    [("2001:db8:1:2::1", "2001:db8:1:2:ffff:ffff:ffff:ffff"), ("2001:db8:1:2::1", "2001:DB8:1:2:0:0:0:9")],
)
def test_ipv6_counts_by_slash_64(a: str, b: str) -> None:
    assert bucket(client_address(a, None, ())) == bucket(client_address(b, None, ())) == "2001:db8:1:2::/64"


def test_ipv6_other_64_is_another_bucket() -> None:
    assert bucket(client_address("2001:db8:1:3::1", None, ())) != bucket(
        client_address("2001:db8:1:2::1", None, ())
    )


def test_ipv4_mapped_ipv6_is_the_ipv4_client() -> None:
    assert bucket(client_address("::ffff:192.0.2.1", None, ())) == "192.0.2.1"
    assert bucket(client_address("", None, ())) == "unknown"
