"""Sans-I/O state machine of one connection to the relay, for either end of it.

Every connection starts in ``NEW``; its first message decides what it is (an enrolling host, a
host control channel, a host data connection for one session, or a viewer logging in). The
legal moves are the table :data:`TRANSITIONS`: (state, who sends, message type) -> next state.
Anything not in the table is a :class:`ProtocolError`. Once a link reaches ``FORWARDING`` it
stops parsing: from then on it carries the end-to-end channel, which the relay cannot read.
"""

from __future__ import annotations

import enum

from core.errors import LocalError, ProtocolError
from core.protocol.control import ControlMessage, ControlType, decode_control, encode_control
from core.protocol.framing import MAX_CONTROL_PAYLOAD, FrameDecoder


class Side(enum.Enum):
    CLIENT = "client"  # a host or a viewer
    RELAY = "relay"


class LinkState(enum.Enum):
    NEW = "new"
    ENROLLING = "enrolling"
    HOST_AUTHENTICATING = "host_authenticating"
    CONTROL_READY = "control_ready"
    ATTACHING = "attaching"
    LOGGING_IN = "logging_in"
    FORWARDING = "forwarding"
    CLOSED = "closed"


S, T = LinkState, ControlType
C, R = Side.CLIENT, Side.RELAY

TRANSITIONS: dict[tuple[LinkState, Side, ControlType], LinkState] = {
    # The first message names the kind of link.
    (S.NEW, C, T.ENROLL): S.ENROLLING,
    (S.NEW, C, T.HOST_AUTH): S.HOST_AUTHENTICATING,
    (S.NEW, C, T.ATTACH): S.ATTACHING,
    (S.NEW, C, T.LOGIN): S.LOGGING_IN,
    # A host that enrols is authenticated by the same exchange and stays on as its control channel.
    (S.ENROLLING, R, T.ENROLLED): S.CONTROL_READY,
    (S.ENROLLING, R, T.REFUSED): S.CLOSED,
    (S.HOST_AUTHENTICATING, R, T.HOST_READY): S.CONTROL_READY,
    (S.HOST_AUTHENTICATING, R, T.REFUSED): S.CLOSED,
    # The control channel: keepalive both ways, offers and answers, policy and signed
    # device-list pushes.
    (S.CONTROL_READY, C, T.PING): S.CONTROL_READY,
    (S.CONTROL_READY, R, T.PING): S.CONTROL_READY,
    (S.CONTROL_READY, C, T.PONG): S.CONTROL_READY,
    (S.CONTROL_READY, R, T.PONG): S.CONTROL_READY,
    (S.CONTROL_READY, R, T.HOST_READY): S.CONTROL_READY,
    (S.CONTROL_READY, R, T.SESSION_OFFER): S.CONTROL_READY,
    (S.CONTROL_READY, C, T.SESSION_ANSWER): S.CONTROL_READY,
    (S.CONTROL_READY, R, T.SESSION_END): S.CONTROL_READY,
    # ... and the host's word that its own policy cut a session (idle, longest length).
    (S.CONTROL_READY, C, T.SESSION_END): S.CONTROL_READY,
    (S.CONTROL_READY, R, T.POLICY): S.CONTROL_READY,
    (S.CONTROL_READY, R, T.WAKE): S.CONTROL_READY,
    (S.CONTROL_READY, R, T.DEVICE_LIST): S.CONTROL_READY,
    (S.CONTROL_READY, R, T.REFUSED): S.CLOSED,
    # A host's per-session data connection.
    (S.ATTACHING, R, T.ATTACHED): S.FORWARDING,
    (S.ATTACHING, R, T.REFUSED): S.CLOSED,
    # A viewer's login: progress notes while the host decides, then joined or refused.
    (S.LOGGING_IN, R, T.PROGRESS): S.LOGGING_IN,
    (S.LOGGING_IN, R, T.LOGIN_OK): S.FORWARDING,
    (S.LOGGING_IN, R, T.REFUSED): S.CLOSED,
}


class RelayLink:
    """One end of a connection to the relay. Feed it bytes; it returns validated messages."""

    def __init__(self, our_side: Side) -> None:
        self.our_side = our_side
        self.their_side = Side.RELAY if our_side is Side.CLIENT else Side.CLIENT
        self.state = LinkState.NEW
        self._decoder = FrameDecoder(MAX_CONTROL_PAYLOAD)
        self._trailing = b""

    def send(self, message: ControlMessage, encoded: bytes | None = None) -> bytes:
        """Check that we may send ``message`` now, advance, and return its bytes (``encoded``
        if the caller encoded it once for many links, as the relay's keepalive does)."""
        key = (self.state, self.our_side, message.TYPE)
        if key not in TRANSITIONS:
            raise LocalError(
                f"{self.our_side.value} may not send {message.TYPE.name} in {self.state.value}"
            )
        self.state = TRANSITIONS[key]
        return encode_control(message) if encoded is None else encoded

    def receive_data(self, data: bytes) -> list[ControlMessage]:
        """Decode what the peer sent. Bytes after the switch to forwarding are kept aside."""
        if self.state is LinkState.FORWARDING:
            self._trailing += data
            return []
        if self.state is LinkState.CLOSED:
            raise ProtocolError("data after the link was closed")
        messages: list[ControlMessage] = []
        self._decoder.feed(data)
        while (frame := self._decoder.next_frame()) is not None:
            message = decode_control(frame)
            key = (self.state, self.their_side, message.TYPE)
            if key not in TRANSITIONS:
                raise ProtocolError(f"{message.TYPE.name} not allowed in {self.state.value}")
            self.state = TRANSITIONS[key]
            messages.append(message)
            if self.state is LinkState.FORWARDING:
                self._trailing += self._decoder.take_buffered()
                break
            if self.state is LinkState.CLOSED:
                break
        return messages

    def take_trailing(self) -> bytes:
        """Bytes that arrived after the switch to forwarding: the start of the relayed stream."""
        data, self._trailing = self._trailing, b""
        return data
