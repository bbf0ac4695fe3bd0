"""How soon can a fresh picture be legible? The byte floor of the office scene's first frame.

    python bench/legibility_floor.py [--link-kbps 100]

``bench/bandwidth.py`` reports ``first_legible_s``: when the viewer first shows the front page's
text at SSIM >= ``LEGIBLE_SSIM``. This measures the least that can take, whatever the rate
control does: the office scene's first frame is encoded as one IDR, with no VBV cap, at every
CRF from 51 (x264's coarsest) down in steps of ``CRF_STEP`` until the decoded page reaches
``LEGIBLE_SSIM``; the bytes of that frame, with their wire overhead, are timed through the link.
(CRF rather than a constant quantiser: x264 turns adaptive quantisation off under ``qp``, and AQ
saves ~10 % on text.) Two pictures are tried:

* ``focus_window``: what a session sends first (the active window, the rest flattened);
* ``page_only``: the page's text alone, everything else white (a floor no sender can beat).

Each picture is tried with the session's x264 analysis settings and with x264's most thorough
intra analysis (``THOROUGH``). The last line is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

import numpy as np
import numpy.typing as npt

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from bench.bandwidth import LEGIBLE_SSIM
from core.media.damage import Rect
from core.media.decoder import H264Decoder
from core.media.encoder import ANALYSIS, H264Encoder
from core.media.quality import ssim
from core.media.sender import VIDEO_WIRE_OVERHEAD_BYTES, flatten_outside
from core.protocol.session import SESSION_BUDGET_BPS

COARSEST_CRF = 51.0  # x264's coarsest
FINEST_CRF_TRIED = 30.0  # far sharper than legible; the scan never gets here on the office scene
CRF_STEP = 0.25
NO_VBV_BITS = 100_000_000  # a cap no single frame reaches
# x264 codes I-frames finer than CRF says (ipratio 1.4); neutral, the scan starts at the coarsest
# picture H.264 can code.
NEUTRAL_IDR = "ipratio=1"
THOROUGH = "subme=10:trellis=2"  # RD refinement everywhere, trellis on every decision
ANALYSES = {"session": ANALYSIS, "thorough": THOROUGH}


def intra_bytes_and_ssim(
    picture: npt.NDArray[np.uint8],
    reference: npt.NDArray[np.uint8],
    text: Rect,
    crf: float,
    analysis: str,
) -> tuple[int, float]:
    """Bytes of ``picture`` as one uncapped IDR at ``crf``, and its decoded text SSIM."""
    h, w = picture.shape[:2]
    encoder = H264Encoder(w, h, crf=crf, qp_min=0, analysis=f"{analysis}:{NEUTRAL_IDR}")
    encoder.set_vbv(NO_VBV_BITS, NO_VBV_BITS)
    packet = encoder.encode(picture, capture_us=0)
    decoded = H264Decoder().decode(packet)
    if decoded.image is None:
        raise RuntimeError(f"an IDR at crf {crf} did not decode")
    return len(packet.data), ssim(reference, decoded.image, text)


def least_legible(
    picture: npt.NDArray[np.uint8], reference: npt.NDArray[np.uint8], text: Rect, analysis: str
) -> dict[str, float | int | None]:
    """The coarsest CRF whose IDR is legible, with its bytes and SSIM."""
    crf = COARSEST_CRF
    while crf >= FINEST_CRF_TRIED:
        size, quality = intra_bytes_and_ssim(picture, reference, text, crf, analysis)
        print(f"  {analysis} crf {crf:g}: {size} B, text SSIM {quality:.3f}", file=sys.stderr)
        if quality >= LEGIBLE_SSIM:
            return {"crf": crf, "bytes": size, "ssim": round(quality, 3)}
        crf -= CRF_STEP
    return {"crf": None, "bytes": None, "ssim": None}


def white_outside(frame: npt.NDArray[np.uint8], keep: Rect) -> npt.NDArray[np.uint8]:
    x, y, w, h = keep
    out = np.full_like(frame, 255)
    out[y : y + h, x : x + w] = frame[y : y + h, x : x + w]
    return out


def seconds_on_link(frame_bytes: int | None, link_kbps: float) -> float | None:
    if frame_bytes is None:
        return None
    return round((frame_bytes + VIDEO_WIRE_OVERHEAD_BYTES) * 8 / (link_kbps * 1000), 2)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--link-kbps", type=float, default=SESSION_BUDGET_BPS / 1000)
    args = parser.parse_args(argv)

    from bench.scenes.office import OfficeScene

    scene = OfficeScene(60.0)
    frame = scene.render(0.0)
    text = scene.text_rect(0.0)
    pictures = {
        "focus_window": flatten_outside(frame, scene.focus_rect(0.0)),
        "page_only": white_outside(frame, text),
    }
    result: dict[str, object] = {
        "legible_ssim": LEGIBLE_SSIM,
        "link_kbps": args.link_kbps,
        "bytes_per_s": int(args.link_kbps * 1000 / 8),
    }
    for name, picture in pictures.items():
        # The page alone is judged against itself: what is outside it is not measured anyway.
        reference = frame if name == "focus_window" else picture
        for label, analysis in ANALYSES.items():
            floor = least_legible(picture, reference, text, analysis)
            key = f"{name}_{label}"
            result[f"{key}_bytes"] = floor["bytes"]
            result[f"{key}_crf"] = floor["crf"]
            result[f"{key}_s"] = seconds_on_link(floor["bytes"], args.link_kbps)  # type: ignore[arg-type]
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
