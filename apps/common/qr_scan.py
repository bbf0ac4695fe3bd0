"""Reading QR codes from an image (a photo or a scan of a printed sheet), with zxing-cpp."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PySide6.QtGui import QImage


class QrImageError(Exception):
    """The file is not an image that can be opened."""


def decode_qr(image: QImage) -> list[str]:
    """The texts of the QR codes found in ``image``, in the order zxing-cpp finds them."""
    import zxingcpp  # only where a QR code is read: not every app needs it loaded

    gray = image.convertToFormat(QImage.Format.Format_Grayscale8)
    if gray.isNull() or gray.width() == 0 or gray.height() == 0:
        return []
    stride = gray.bytesPerLine()
    pixels = np.frombuffer(gray.constBits(), np.uint8, stride * gray.height())
    pixels = pixels.reshape(gray.height(), stride)[:, : gray.width()]
    found = zxingcpp.read_barcodes(
        np.ascontiguousarray(pixels), formats=zxingcpp.BarcodeFormats(zxingcpp.BarcodeFormat.QRCode)
    )
    return [str(barcode.text) for barcode in found if barcode.valid]


def read_qr_file(path: Path) -> list[str]:
    """The texts of the QR codes in the image file at ``path``; :class:`QrImageError` if it
    cannot be opened as an image."""
    image = QImage(str(path))
    if image.isNull():
        raise QrImageError(str(path))
    return decode_qr(image)
