import pytest

from core.errors import LocalError, ProtocolError
from core.protocol.control import (
    Attach,
    Attached,
    Enroll,
    HostAuth,
    HostReady,
    Login,
    LoginOk,
    Ping,
    Pong,
    Progress,
    Refused,
    SessionOffer,
)
from core.protocol.relay_link import TRANSITIONS, LinkState, RelayLink, Side

LOGIN = Login("t", "u", "123456", "H" * 20, "pem", [], "")


def pair():
    return RelayLink(Side.CLIENT), RelayLink(Side.RELAY)


def deliver(sender, receiver, message):
    return receiver.receive_data(sender.send(message))


def test_viewer_login_to_forwarding_keeps_trailing_bytes():
    viewer, relay = pair()
    assert deliver(viewer, relay, LOGIN) == [LOGIN]
    assert relay.state is viewer.state is LinkState.LOGGING_IN
    deliver(relay, viewer, Progress("waiting_for_host"))
    ok = relay.send(LoginOk("s", "ticket", 600))
    # The host's first TLS record may arrive glued to LOGIN_OK: it must not be parsed.
    assert viewer.receive_data(ok + b"\x16\x03\x03tls") == [LoginOk("s", "ticket", 600)]
    assert viewer.state is LinkState.FORWARDING
    assert viewer.take_trailing() == b"\x16\x03\x03tls"
    assert viewer.receive_data(b"more") == []
    assert viewer.take_trailing() == b"more"


def test_host_control_channel_keepalive_and_offer():
    host, relay = pair()
    deliver(host, relay, HostAuth("H", "secret", "1.0"))
    deliver(relay, host, HostReady("H", "t", 10))
    assert host.state is LinkState.CONTROL_READY
    deliver(relay, host, Ping(1))
    deliver(host, relay, Pong(1))
    deliver(relay, host, SessionOffer("s", "t", "u", "pem", [], "1.2.3.4"))
    assert relay.state is LinkState.CONTROL_READY


def test_refusal_closes_and_later_data_is_an_error():
    viewer, relay = pair()
    deliver(viewer, relay, LOGIN)
    deliver(relay, viewer, Refused("wrong_otp"))
    assert viewer.state is LinkState.CLOSED
    with pytest.raises(ProtocolError):
        viewer.receive_data(b"x")


@pytest.mark.parametrize("first", [Ping(1), LoginOk("s", "t", 1), HostReady("H", "t", 10)])
def test_illegal_first_message_from_client(first):
    _, relay = pair()
    # A hostile client can put anything on the wire: fake it by encoding with a relay-side link.
    forged = RelayLink(Side.CLIENT)
    forged.our_side = Side.RELAY  # bypass our own send-side check to produce the bytes
    forged.state = (
        LinkState.CONTROL_READY if not isinstance(first, LoginOk) else LinkState.LOGGING_IN
    )
    with pytest.raises(ProtocolError):
        relay.receive_data(forged.send(first))


def test_we_refuse_to_send_out_of_order():
    viewer, _ = pair()
    with pytest.raises(LocalError):
        viewer.send(Attached("s"))
    host, relay = pair()
    deliver(host, relay, Attach("H", "s", "sid"))
    with pytest.raises(LocalError):
        host.send(Enroll("t", "n", "v", "pem"))


def test_a_client_cannot_speak_after_login_until_answered():
    viewer, relay = pair()
    deliver(viewer, relay, LOGIN)
    forged = RelayLink(Side.CLIENT)
    forged.state = LinkState.CONTROL_READY
    with pytest.raises(ProtocolError):
        relay.receive_data(forged.send(Ping(1)))


def test_every_state_but_closed_and_forwarding_has_a_way_out():
    sources = {state for state, _, _ in TRANSITIONS}
    assert sources == set(LinkState) - {LinkState.CLOSED, LinkState.FORWARDING}
    for state in sources - {LinkState.NEW}:
        assert any(
            s is state and new in (LinkState.CLOSED, LinkState.FORWARDING, LinkState.CONTROL_READY)
            for (s, _, _), new in TRANSITIONS.items()
        )
