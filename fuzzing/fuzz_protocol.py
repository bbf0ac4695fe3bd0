"""Fuzz target for every parser a peer can reach: relay links and session channels.

With atheris installed (``pip install atheris``) it runs coverage-guided:
    python fuzzing/fuzz_protocol.py -max_total_time=300
Without it, ``--random N`` feeds N random and mutated inputs, for a quick smoke run.
The only exceptions allowed out of the parsers are :class:`core.errors.ProtocolError`s.
"""

from __future__ import annotations

import random
import sys

from core.errors import ProtocolError
from core.protocol.control import Login, encode_control
from core.protocol.relay_link import RelayLink, Side
from core.protocol.session import Role, SessionChannel, Video, encode_session

VIDEO = encode_session(Video(True, 1, 2, 1920, 1080, b"\x00\x00\x00\x01"))
SEEDS = [
    encode_control(Login("t", "u", "123456", "A" * 20, "pem", ["aa:bb:cc:dd:ee:ff"], "")),
    VIDEO,
    VIDEO + VIDEO,  # more than one frame in one read
]


def one_input(data: bytes) -> None:
    # Split the input at a data-chosen point so partial frames are exercised too.
    cut = data[0] % (len(data) + 1) if data else 0
    for make in (
        lambda: RelayLink(Side.RELAY),
        lambda: RelayLink(Side.CLIENT),
        lambda: SessionChannel(Role.HOST),
        lambda: SessionChannel(Role.VIEWER),
    ):
        endpoint = make()
        try:
            endpoint.receive_data(data[:cut])
            endpoint.receive_data(data[cut:])
        except ProtocolError:
            continue  # refused: the endpoint is done with, whatever it holds
        # Accepted input is consumed: no whole frame is left behind unparsed (a link that
        # switched to forwarding has handed its buffered bytes on).
        assert endpoint._decoder.next_frame() is None, "a whole frame was left unparsed"


def random_inputs(count: int, seed: int = 1) -> None:
    rng = random.Random(seed)  # noqa: S311 - reproducible test inputs, not secrets
    for i in range(count):
        if i % 2:
            base = bytearray(rng.choice(SEEDS))
            for _ in range(rng.randint(1, 8)):
                base[rng.randrange(len(base))] = rng.randrange(256)
            one_input(bytes(base))
        else:
            one_input(rng.randbytes(rng.randint(0, 256)))


def main() -> None:
    if len(sys.argv) == 3 and sys.argv[1] == "--random":
        random_inputs(int(sys.argv[2]))
        print(f"{sys.argv[2]} inputs, no unexpected exception")
        return
    import atheris

    atheris.instrument_all()  # coverage feedback from the already imported parsers
    atheris.Setup(sys.argv, one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
