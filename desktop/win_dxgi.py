"""What a Windows monitor shows and what was drawn on it, from DXGI Desktop Duplication.

The Windows counterpart of desktop/x11_damage.py and desktop/capture.py together: one
:class:`DxgiDuplication` per monitor offers ScreenCapture's ``size``, ``grab()`` and ``close()``
and X11DamageSource's ``take()``, so apps/host/session.py HostMedia uses it as both. Windows 8
and later compose the desktop with DWM, which tells a duplicating process which rectangles it
redrew (``GetFrameDirtyRects``) and which it moved (``GetFrameMoveRects``: scrolls, dragged
windows) since the last frame the process acquired; nothing new within the timeout
(``DXGI_ERROR_WAIT_TIMEOUT``) means nothing was drawn. The desktop image is a GPU texture: each
new one is copied (``CopyResource``) into a CPU-readable staging texture, which ``grab()`` maps
and reads only when it changed. The cursor is never in the picture (DWM hands it over apart).

``DXGI_ERROR_ACCESS_LOST`` (a desktop switch: UAC, Ctrl+Alt+Del, the lock screen; a mode
change; a full-screen program) invalidates the duplication: everything is released and made
again, every REOPEN_INTERVAL_S while Windows refuses (a user-level process may not duplicate
the secure desktop). Meanwhile ``grab()`` returns the last picture and ``take()`` None.
Where duplication cannot be had at all (Windows 7, a Remote Desktop session, a rotated
monitor, no DXGI output at the monitor's place) the constructor raises :class:`DxgiUnavailable`
and the host captures with mss and compares whole frames instead.

Move rectangles count as drawn at their destination; they are also kept, in desktop pixels, as
:attr:`DxgiDuplication.moves` for a later step that may use them as copy hints (a scroll is a
copy of pixels already on the viewer's screen).

COM is called through vtables with plain ctypes (no comtypes). The parsing of DXGI's buffers,
the coordinates and the "cannot tell" decisions are plain functions tested on Linux; the COM
calls run against fake vtables there (tests/unit/test_win_dxgi.py), never against Windows.
"""

from __future__ import annotations

import ctypes
import functools
import logging
import struct
import sys
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from core.media.frames import Rect, even_size

log = logging.getLogger("telework.host.dxgi")

# AcquireNextFrame's wait in a look: none. The host loop paces itself
# (VideoSender.next_poll_delay), and "no new frame at once" is what says nothing was drawn.
ACQUIRE_TIMEOUT_MS = 0
# Once a duplication exists, its first frame (the whole desktop) is waited for this long, so
# the first picture is the screen, not black; a still desktop delivers it at once.
FIRST_FRAME_TIMEOUT_MS = 500
# Dirty rectangles kept per look, as MAX_DAMAGE_RECTS on X11: past it (a video, a dragged
# window) the whole monitor counts as drawn, which costs no more than one frame comparison.
# Also the size of the buffer DXGI writes them into (16 bytes each): more is DXGI_ERROR_MORE_DATA.
MAX_DIRTY_RECTS = 256
# Move rectangles read per frame (24 bytes each); more counts as the whole monitor drawn.
MAX_MOVE_RECTS = 64
# While Windows refuses a new duplication (the secure desktop is shown), it is asked again at
# most this often: asking at every look (up to 15 a second) would only burn the CPU.
REOPEN_INTERVAL_S = 0.5

# HRESULTs, as the unsigned 32-bit values the headers spell.
S_OK = 0
E_INVALIDARG = 0x80070057
E_ACCESSDENIED = 0x80070005
E_NOINTERFACE = 0x80004002
E_NOTIMPL = 0x80004001
DXGI_ERROR_NOT_FOUND = 0x887A0002
DXGI_ERROR_MORE_DATA = 0x887A0003
DXGI_ERROR_UNSUPPORTED = 0x887A0004
DXGI_ERROR_DEVICE_REMOVED = 0x887A0005
DXGI_ERROR_NOT_CURRENTLY_AVAILABLE = 0x887A0022
DXGI_ERROR_ACCESS_LOST = 0x887A0026
DXGI_ERROR_WAIT_TIMEOUT = 0x887A0027
DXGI_ERROR_SESSION_DISCONNECTED = 0x887A0028
_HRESULT_NAMES = {
    value: name
    for name, value in list(globals().items())
    if name.startswith(("E_", "DXGI_ERROR_")) and isinstance(value, int)
}
# A duplication refused for these can be had later, so the constructor keeps trying instead of
# giving up: the office PC is on the secure desktop (locked, UAC) as the session starts.
RETRY_LATER = frozenset({E_ACCESSDENIED})

# Vtable slots (IUnknown 0-2, IDXGIObject 3-6, then each interface's own, in header order).
_QUERY_INTERFACE, _RELEASE = 0, 2
_FACTORY1_ENUM_ADAPTERS1 = 12
_ADAPTER_ENUM_OUTPUTS = 7
_OUTPUT_GET_DESC = 7
_OUTPUT1_DUPLICATE_OUTPUT = 22
_DUPLICATION_ACQUIRE_NEXT_FRAME = 8
_DUPLICATION_GET_FRAME_DIRTY_RECTS = 9
_DUPLICATION_GET_FRAME_MOVE_RECTS = 10
_DUPLICATION_RELEASE_FRAME = 14
_DEVICE_CREATE_TEXTURE_2D = 5
_TEXTURE_2D_GET_DESC = 10
_CONTEXT_MAP, _CONTEXT_UNMAP, _CONTEXT_COPY_RESOURCE = 14, 15, 47

IID_IDXGI_FACTORY1 = "770aae78-f26f-4dba-a829-253c83d1b387"
IID_IDXGI_OUTPUT1 = "00cddea8-939b-4b83-a340-a685226666cc"
IID_ID3D11_TEXTURE_2D = "6f15aaf2-d208-4e89-9ab4-489535d34f9c"

DXGI_FORMAT_B8G8R8A8_UNORM = 87  # what IDXGIOutput1::DuplicateOutput always hands out
DXGI_FORMAT_B8G8R8A8_UNORM_SRGB = 91
_BGRA_FORMATS = frozenset({DXGI_FORMAT_B8G8R8A8_UNORM, DXGI_FORMAT_B8G8R8A8_UNORM_SRGB})
DXGI_MODE_ROTATION_UNSPECIFIED, DXGI_MODE_ROTATION_IDENTITY = 0, 1
D3D_DRIVER_TYPE_UNKNOWN = 0  # the adapter is named, so the driver type must be "unknown"
D3D11_SDK_VERSION = 7
D3D11_USAGE_STAGING = 3
D3D11_CPU_ACCESS_READ = 0x20000
D3D11_MAP_READ = 1

RECT_BYTES = 16  # RECT: LONG left, top, right, bottom
MOVE_RECT_BYTES = 24  # DXGI_OUTDUPL_MOVE_RECT: POINT SourcePoint, RECT DestinationRect


# -- Windows structures, with fixed-size fields (LONG is 32-bit on Windows, not on Linux) --------
class _GUID(ctypes.Structure):
    _fields_ = [("bytes", ctypes.c_ubyte * 16)]


def _guid(text: str) -> _GUID:
    return _GUID.from_buffer_copy(uuid.UUID(text).bytes_le)


class _RECT(ctypes.Structure):
    _fields_ = [(name, ctypes.c_int32) for name in ("left", "top", "right", "bottom")]


class _POINT(ctypes.Structure):
    _fields_ = [("x", ctypes.c_int32), ("y", ctypes.c_int32)]


class _MOVE_RECT(ctypes.Structure):  # DXGI_OUTDUPL_MOVE_RECT
    _fields_ = [("SourcePoint", _POINT), ("DestinationRect", _RECT)]


class _OUTPUT_DESC(ctypes.Structure):  # DXGI_OUTPUT_DESC
    _fields_ = [
        ("DeviceName", ctypes.c_uint16 * 32),  # WCHAR: 2 bytes on Windows, 4 in ctypes on Linux
        ("DesktopCoordinates", _RECT),
        ("AttachedToDesktop", ctypes.c_int32),
        ("Rotation", ctypes.c_uint32),
        ("Monitor", ctypes.c_void_p),
    ]


class _POINTER_POSITION(ctypes.Structure):  # DXGI_OUTDUPL_POINTER_POSITION
    _fields_ = [("Position", _POINT), ("Visible", ctypes.c_int32)]


class _FRAME_INFO(ctypes.Structure):  # DXGI_OUTDUPL_FRAME_INFO
    _fields_ = [
        ("LastPresentTime", ctypes.c_int64),  # 0: only the pointer changed, not the image
        ("LastMouseUpdateTime", ctypes.c_int64),
        ("AccumulatedFrames", ctypes.c_uint32),
        ("RectsCoalesced", ctypes.c_int32),
        ("ProtectedContentMaskedOut", ctypes.c_int32),
        ("PointerPosition", _POINTER_POSITION),
        ("TotalMetadataBufferSize", ctypes.c_uint32),  # 0: no dirty or move rectangles
        ("PointerShapeBufferSize", ctypes.c_uint32),
    ]


class _SAMPLE_DESC(ctypes.Structure):
    _fields_ = [("Count", ctypes.c_uint32), ("Quality", ctypes.c_uint32)]


class _TEXTURE2D_DESC(ctypes.Structure):  # D3D11_TEXTURE2D_DESC
    _fields_ = [
        ("Width", ctypes.c_uint32),
        ("Height", ctypes.c_uint32),
        ("MipLevels", ctypes.c_uint32),
        ("ArraySize", ctypes.c_uint32),
        ("Format", ctypes.c_uint32),
        ("SampleDesc", _SAMPLE_DESC),
        ("Usage", ctypes.c_uint32),
        ("BindFlags", ctypes.c_uint32),
        ("CPUAccessFlags", ctypes.c_uint32),
        ("MiscFlags", ctypes.c_uint32),
    ]


class _MAPPED_SUBRESOURCE(ctypes.Structure):  # D3D11_MAPPED_SUBRESOURCE
    _fields_ = [
        ("pData", ctypes.c_void_p),
        ("RowPitch", ctypes.c_uint32),
        ("DepthPitch", ctypes.c_uint32),
    ]


# -- errors ------------------------------------------------------------------------------------
def hresult_name(code: int) -> str:
    code &= 0xFFFFFFFF
    return _HRESULT_NAMES.get(code, f"0x{code:08X}")


class DxgiError(OSError):
    """A DXGI or Direct3D call failed; ``hresult`` is its unsigned 32-bit code (0 if none)."""

    def __init__(self, what: str, hresult: int = 0) -> None:
        self.hresult = hresult & 0xFFFFFFFF
        super().__init__(f"{what}: {hresult_name(hresult)}" if hresult else what)


class DxgiUnavailable(DxgiError):
    """Desktop duplication cannot be had here: capture with mss instead."""


# -- the pure part: DXGI's buffers, coordinates, what was drawn since the last look --------------
@dataclass(frozen=True)
class Move:
    """DWM copied the pixels at ``source`` (top-left corner) to ``dest``: a scroll or a dragged
    window. Desktop pixels once out of :class:`DirtyLog`."""

    source: tuple[int, int]
    dest: Rect


def parse_dirty_rects(buffer: bytes) -> list[Rect]:
    """RECTs as GetFrameDirtyRects writes them (little-endian LONG left, top, right, bottom),
    as (x, y, width, height); empty or inverted ones are dropped, a trailing partial one too."""
    whole = len(buffer) - len(buffer) % RECT_BYTES
    rects = []
    for left, top, right, bottom in struct.iter_unpack("<4i", buffer[:whole]):
        if right > left and bottom > top:
            rects.append((left, top, right - left, bottom - top))
    return rects


def parse_move_rects(buffer: bytes) -> list[Move]:
    """DXGI_OUTDUPL_MOVE_RECTs as GetFrameMoveRects writes them (POINT SourcePoint, RECT
    DestinationRect); empty ones are dropped, a trailing partial one too."""
    whole = len(buffer) - len(buffer) % MOVE_RECT_BYTES
    moves = []
    for sx, sy, left, top, right, bottom in struct.iter_unpack("<6i", buffer[:whole]):
        if right > left and bottom > top:
            moves.append(Move((sx, sy), (left, top, right - left, bottom - top)))
    return moves


def on_desktop(rect: Rect, output: Rect) -> Rect | None:
    """``rect`` in the output's desktop image (its own pixels, origin top-left) as desktop
    pixels, clipped to the output (``output``: its DesktopCoordinates as x, y, width, height);
    None if nothing of it is on the output."""
    x, y, w, h = rect
    left, top, width, height = output
    x0, y0 = max(0, x), max(0, y)
    x1, y1 = min(width, x + w), min(height, y + h)
    if x1 <= x0 or y1 <= y0:
        return None
    return left + x0, top + y0, x1 - x0, y1 - y0


class DirtyLog:
    """What the duplication reported since the last :meth:`take`, in desktop pixels.

    Unknown (None) until the first take after :meth:`reset`: a new duplication says nothing
    about what changed while there was none."""

    def __init__(self, output: Rect) -> None:
        self.reset(output)

    def reset(self, output: Rect) -> None:
        """A new duplication of ``output`` (x, y, width, height on the desktop)."""
        self._output = output
        self._rects: list[Rect] | None = None
        self._moves: list[Move] = []
        self._whole = False

    def lose(self) -> None:
        """Frames were (or may have been) missed: the next take cannot tell."""
        self._rects = None
        self._moves = []

    def add(self, dirty: Sequence[Rect] | None, moves: Sequence[Move] | None) -> None:
        """One frame's rectangles, in the output's image pixels; None for either: more than
        DXGI's buffer held, so the whole output counts as drawn."""
        if self._rects is None or self._whole:
            return
        if dirty is None or moves is None:
            self._flood()
            return
        # Moves before dirty rectangles: the order in which DWM applied them to the image.
        for move in moves:
            dest = on_desktop(move.dest, self._output)
            if dest is None:
                continue
            self._rects.append(dest)
            if dest[2:] == move.dest[2:]:  # a clipped move is no exact copy: damage only
                left, top = self._output[:2]
                self._moves.append(Move((left + move.source[0], top + move.source[1]), dest))
        for rect in dirty:
            drawn = on_desktop(rect, self._output)
            if drawn is not None:
                self._rects.append(drawn)
        if len(self._rects) > MAX_DIRTY_RECTS:
            self._flood()

    def _flood(self) -> None:
        self._rects = [self._output]
        self._moves = []  # incomplete, so no longer a description of what happened
        self._whole = True

    def take(self) -> tuple[list[Rect] | None, list[Move]]:
        """(the rectangles drawn since the last take, [] for none, None when it cannot tell;
        the moves among them, in the order they happened), and start again from nothing."""
        taken = self._rects, self._moves
        self._rects, self._moves, self._whole = [], [], False
        return taken


def pick_output(outputs: Sequence[tuple[str, Rect]], monitor: Rect, name: str | None) -> int:
    """Which of ``outputs`` (device name, desktop rectangle) shows ``monitor``: the one named
    ``name`` when it is known (a mode change moves or resizes a monitor, not its name), else the
    one at exactly the monitor's place; -1 for none."""
    for i, (device, rect) in enumerate(outputs):
        if (device == name) if name is not None else (rect == monitor):
            return i
    return -1


def copy_picture(rows: npt.NDArray[np.uint8], width: int, out: npt.NDArray[np.uint8]) -> None:
    """The BGRA image in ``rows`` (one row of RowPitch bytes each, ``width`` pixels used) into
    ``out`` (h, w, 4), from the top-left corner; what the image does not cover turns black (the
    monitor's mode shrank since the session started, as mss would show it)."""
    if width * 4 > rows.shape[1]:
        raise ValueError(f"{width} pixels do not fit in rows of {rows.shape[1]} bytes")
    h, w = min(rows.shape[0], out.shape[0]), min(width, out.shape[1])
    out[:h, :w] = rows[:h, : w * 4].reshape(h, w, 4)
    out[h:] = 0
    out[:h, w:] = 0


# -- COM through vtables -------------------------------------------------------------------------
if sys.platform == "win32":
    _FUNCTYPE = ctypes.WINFUNCTYPE
else:  # the same convention on x64, where Windows has no stdcall; lets tests run on Linux
    _FUNCTYPE = ctypes.CFUNCTYPE

_HRESULT = ctypes.c_int32


@functools.cache
def _prototype(restype: Any, argtypes: tuple[Any, ...]) -> Any:
    return _FUNCTYPE(restype, ctypes.c_void_p, *argtypes)


class Com:
    """One reference to a COM interface, called through its vtable, released once."""

    def __init__(self, pointer: int | None, what: str) -> None:
        if not pointer:
            raise DxgiError(f"{what}: no interface")
        self.pointer: int | None = pointer
        self.what = what

    def call(
        self, slot: int, argtypes: tuple[Any, ...], *args: Any, restype: Any = _HRESULT
    ) -> Any:
        """Method ``slot`` of the vtable with ``args``; its raw result (an HRESULT by default)."""
        if self.pointer is None:
            raise DxgiError(f"{self.what}: already released")
        vtable = ctypes.cast(self.pointer, ctypes.POINTER(ctypes.POINTER(ctypes.c_void_p)))
        method = _prototype(restype, argtypes)(vtable[0][slot])
        return method(self.pointer, *args)

    def check(self, slot: int, argtypes: tuple[Any, ...], *args: Any, what: str) -> None:
        """Method ``slot``, which returns an HRESULT; a failure raises :class:`DxgiError`."""
        hr = self.call(slot, argtypes, *args)
        if hr < 0:
            raise DxgiError(what, hr)

    def out(self, slot: int, argtypes: tuple[Any, ...], *args: Any, what: str) -> Com:
        """Method ``slot`` whose last parameter receives a new interface, wrapped."""
        result = ctypes.c_void_p()
        self.check(
            slot,
            (*argtypes, ctypes.POINTER(ctypes.c_void_p)),
            *args,
            ctypes.byref(result),
            what=what,
        )
        return Com(result.value, what)

    def query(self, iid: str, what: str) -> Com:
        guid = _guid(iid)
        return self.out(_QUERY_INTERFACE, (ctypes.POINTER(_GUID),), ctypes.byref(guid), what=what)

    def release(self) -> None:
        if self.pointer is not None:
            self.call(_RELEASE, (), restype=ctypes.c_uint32)
            self.pointer = None


def _release(*objects: Com | None) -> None:
    for obj in objects:
        if obj is not None:
            obj.release()


@dataclass(frozen=True)
class DxgiApi:
    """The two entry points in DLLs: CreateDXGIFactory1 and D3D11CreateDevice (on an adapter,
    returning the device and its immediate context). Tests pass fakes."""

    create_factory: Callable[[], Com]
    create_device: Callable[[Com], tuple[Com, Com]]


def windows_api() -> DxgiApi:
    """The real entry points, from dxgi.dll and d3d11.dll."""
    if sys.platform != "win32":
        raise DxgiUnavailable("DXGI Desktop Duplication exists on Windows only")
    try:
        dxgi = ctypes.WinDLL("dxgi")
        d3d11 = ctypes.WinDLL("d3d11")
        create_factory_1 = dxgi.CreateDXGIFactory1
        create_device = d3d11.D3D11CreateDevice
    except (OSError, AttributeError) as exc:  # before Windows 7 with its platform update
        raise DxgiUnavailable(f"no DXGI 1.1 or Direct3D 11: {exc}") from exc
    pointer = ctypes.POINTER
    create_factory_1.restype = _HRESULT
    create_factory_1.argtypes = (pointer(_GUID), pointer(ctypes.c_void_p))
    create_device.restype = _HRESULT
    create_device.argtypes = (
        ctypes.c_void_p,  # IDXGIAdapter*
        ctypes.c_uint32,  # D3D_DRIVER_TYPE
        ctypes.c_void_p,  # HMODULE Software
        ctypes.c_uint32,  # Flags
        ctypes.c_void_p,  # const D3D_FEATURE_LEVEL* (NULL: the runtime's default list)
        ctypes.c_uint32,  # FeatureLevels
        ctypes.c_uint32,  # SDKVersion
        pointer(ctypes.c_void_p),  # ID3D11Device**
        pointer(ctypes.c_uint32),  # D3D_FEATURE_LEVEL*
        pointer(ctypes.c_void_p),  # ID3D11DeviceContext**
    )

    def new_factory() -> Com:
        factory = ctypes.c_void_p()
        iid = _guid(IID_IDXGI_FACTORY1)
        hr = create_factory_1(ctypes.byref(iid), ctypes.byref(factory))
        if hr < 0:
            raise DxgiUnavailable("CreateDXGIFactory1", hr)
        return Com(factory.value, "IDXGIFactory1")

    def new_device(adapter: Com) -> tuple[Com, Com]:
        device, context = ctypes.c_void_p(), ctypes.c_void_p()
        level = ctypes.c_uint32()
        hr = create_device(
            adapter.pointer,
            D3D_DRIVER_TYPE_UNKNOWN,
            None,
            0,
            None,
            0,
            D3D11_SDK_VERSION,
            ctypes.byref(device),
            ctypes.byref(level),
            ctypes.byref(context),
        )
        if hr < 0:
            raise DxgiError("D3D11CreateDevice", hr)
        device_com = Com(device.value, "ID3D11Device")
        try:
            return device_com, Com(context.value, "ID3D11DeviceContext")
        except BaseException:
            device_com.release()
            raise

    return DxgiApi(new_factory, new_device)


def _desktop_rect(rect: _RECT) -> Rect:
    return rect.left, rect.top, rect.right - rect.left, rect.bottom - rect.top


def _device_name(desc: _OUTPUT_DESC) -> str:
    """The output's GDI name (``\\\\.\\DISPLAY1``): it survives a mode change."""
    return bytes(desc.DeviceName).decode("utf-16-le").split("\0", 1)[0]


# -- the duplication -----------------------------------------------------------------------------
class DxgiDuplication:
    """The picture of one monitor and what was drawn on it since the last look.

    ``monitor``: its desktop rectangle (x, y, width, height) as mss lists it; the DXGI output
    at exactly that place is duplicated (mss makes the process DPI-aware first, so both speak
    physical pixels). Frames keep the size of that rectangle (even), as ScreenCapture's do, even
    if the monitor's mode changes later. Not thread-safe: use it from the thread that made it."""

    def __init__(
        self,
        monitor: Rect,
        *,
        api: DxgiApi | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._api = api if api is not None else windows_api()
        self._monitor = monitor
        self._clock = clock
        width, height = even_size(monitor[2], monitor[3])
        self._frame: npt.NDArray[np.uint8] = np.zeros((height, width, 4), dtype=np.uint8)
        self._log = DirtyLog(monitor)
        self.moves: list[Move] = []  # of the last take(): desktop pixels, in order
        self._output_name: str | None = None  # known once the output has been found
        self._device: Com | None = None
        self._context: Com | None = None
        self._duplication: Com | None = None
        self._staging: Com | None = None
        self._staging_size = (0, 0)
        self._fresh = False  # the duplication's first frame is yet to come
        self._picture_new = False  # the staging texture holds what grab() has not read yet
        self._retry_at = 0.0
        self._closed = False
        self._dirty_buffer = (_RECT * MAX_DIRTY_RECTS)()
        self._move_buffer = (_MOVE_RECT * MAX_MOVE_RECTS)()
        try:
            self._open()
        except DxgiUnavailable:
            raise
        except DxgiError as exc:
            if exc.hresult not in RETRY_LATER:
                raise DxgiUnavailable(str(exc), exc.hresult) from exc
            log.info("desktop duplication refused for now (%s): trying again", exc)
            self._retry_at = clock() + REOPEN_INTERVAL_S
            return
        self._update(FIRST_FRAME_TIMEOUT_MS)

    # -- ScreenCapture's and X11DamageSource's faces ----------------------------------------
    @property
    def size(self) -> tuple[int, int]:
        """(width, height) of the frames :meth:`grab` returns, always even."""
        return self._frame.shape[1], self._frame.shape[0]

    def take(self) -> list[Rect] | None:
        """The rectangles (desktop pixels) drawn since the last call, [] for none; None when
        it cannot tell (a new duplication, one lost). Moves count at their destination and are
        also left in :attr:`moves`."""
        self._update(ACQUIRE_TIMEOUT_MS)
        if self._duplication is None:  # lost and not back: anything may be drawn meanwhile
            self._log.lose()
        rects, self.moves = self._log.take()
        return rects

    def grab(self) -> npt.NDArray[np.uint8]:
        """The current picture as an (h, w, 4) BGRA array, without the cursor. The same array
        each time, overwritten by the next grab (the sender copies what it keeps)."""
        self._update(ACQUIRE_TIMEOUT_MS)
        if self._picture_new and self._staging is not None and self._context is not None:
            try:
                self._read_staging(self._context, self._staging)
                self._picture_new = False
            except DxgiError as exc:
                self._lose(exc)
        return self._frame

    def close(self) -> None:
        """Release everything; again is harmless (HostMedia holds this as capture and as
        damage source)."""
        self._closed = True
        self._release_all()

    def __enter__(self) -> DxgiDuplication:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- making and losing the duplication ----------------------------------------------------
    def _open(self) -> None:
        """Find the output, make a device on its adapter, duplicate it; on failure nothing is
        left held."""
        try:
            output, adapter, desc = self._find_output()
            try:
                if desc.Rotation not in (
                    DXGI_MODE_ROTATION_UNSPECIFIED,
                    DXGI_MODE_ROTATION_IDENTITY,
                ):
                    # The image would come unrotated, and its rectangles with it.
                    raise DxgiUnavailable("the monitor is rotated")
                self._device, self._context = self._api.create_device(adapter)
                # E_NOINTERFACE before Windows 8.
                output1 = output.query(IID_IDXGI_OUTPUT1, "IDXGIOutput1")
            finally:
                _release(output, adapter)
            try:
                self._duplication = output1.out(
                    _OUTPUT1_DUPLICATE_OUTPUT,
                    (ctypes.c_void_p,),
                    self._device.pointer,
                    what="DuplicateOutput",
                )
            finally:
                output1.release()
        except BaseException:
            self._release_all()
            raise
        self._log.reset(_desktop_rect(desc.DesktopCoordinates))
        self._fresh = True

    def _find_output(self) -> tuple[Com, Com, _OUTPUT_DESC]:
        """The output that shows the monitor, its adapter and its description; each enumerated
        adapter and output not kept is released."""
        factory = self._api.create_factory()
        try:
            for a in range(64):  # a bound, not a limit: DXGI_ERROR_NOT_FOUND ends the list
                adapter = self._enumerate(factory, _FACTORY1_ENUM_ADAPTERS1, a, "EnumAdapters1")
                if adapter is None:
                    break
                found = None
                try:
                    found = self._output_on(adapter)
                finally:
                    if found is None:
                        adapter.release()
                if found is not None:
                    return found[0], adapter, found[1]
        finally:
            factory.release()
        raise DxgiUnavailable(f"no DXGI output at {self._monitor}")

    def _output_on(self, adapter: Com) -> tuple[Com, _OUTPUT_DESC] | None:
        """The output of ``adapter`` that shows the monitor, if any; the others are released."""
        outputs: list[tuple[Com, _OUTPUT_DESC]] = []
        kept: tuple[Com, _OUTPUT_DESC] | None = None
        try:
            for o in range(64):
                output = self._enumerate(adapter, _ADAPTER_ENUM_OUTPUTS, o, "EnumOutputs")
                if output is None:
                    break
                desc = _OUTPUT_DESC()
                outputs.append((output, desc))
                output.check(
                    _OUTPUT_GET_DESC,
                    (ctypes.POINTER(_OUTPUT_DESC),),
                    ctypes.byref(desc),
                    what="GetDesc",
                )
            attached = [(c, d) for c, d in outputs if d.AttachedToDesktop]
            described = [
                (_device_name(d), _desktop_rect(d.DesktopCoordinates)) for _, d in attached
            ]
            chosen = pick_output(described, self._monitor, self._output_name)
            if chosen >= 0:
                self._output_name = described[chosen][0]
                kept = attached[chosen]
            return kept
        finally:
            _release(*(c for c, _ in outputs if kept is None or c is not kept[0]))

    @staticmethod
    def _enumerate(parent: Com, slot: int, index: int, what: str) -> Com | None:
        result = ctypes.c_void_p()
        hr = parent.call(
            slot, (ctypes.c_uint32, ctypes.POINTER(ctypes.c_void_p)), index, ctypes.byref(result)
        )
        if (hr & 0xFFFFFFFF) == DXGI_ERROR_NOT_FOUND:
            return None
        if hr < 0:
            raise DxgiError(what, hr)
        return Com(result.value, what)

    def _lose(self, reason: Exception) -> None:
        """The duplication is invalid (ACCESS_LOST, a removed device): release all of it, and
        make it again at the next look."""
        if self._duplication is not None:
            log.info("desktop duplication lost (%s): making it again", reason)
        self._release_all()
        self._log.lose()
        self._retry_at = self._clock()

    def _release_all(self) -> None:
        staging, duplication, context, device = (
            self._staging,
            self._duplication,
            self._context,
            self._device,
        )
        self._staging = self._duplication = self._context = self._device = None
        self._staging_size = (0, 0)
        _release(staging, duplication, context, device)

    def _reopen(self) -> bool:
        now = self._clock()
        if self._closed or now < self._retry_at:
            return False
        try:
            self._open()
        except DxgiError as exc:  # still on the secure desktop, monitor gone, ...
            log.debug("desktop duplication not back yet: %s", exc)
            self._retry_at = now + REOPEN_INTERVAL_S
            return False
        log.info("desktop duplication back")
        return True

    # -- frames -------------------------------------------------------------------------------
    def _update(self, timeout_ms: int) -> None:
        """Take in the frame DXGI has, if any: its rectangles into the log, its image into the
        staging texture."""
        if self._duplication is None and not self._reopen():
            return
        duplication = self._duplication
        assert duplication is not None
        info = _FRAME_INFO()
        resource = ctypes.c_void_p()
        hr = duplication.call(
            _DUPLICATION_ACQUIRE_NEXT_FRAME,
            (ctypes.c_uint32, ctypes.POINTER(_FRAME_INFO), ctypes.POINTER(ctypes.c_void_p)),
            timeout_ms,
            ctypes.byref(info),
            ctypes.byref(resource),
        )
        if (hr & 0xFFFFFFFF) == DXGI_ERROR_WAIT_TIMEOUT:
            return  # nothing new: nothing was drawn
        if hr < 0:
            self._lose(DxgiError("AcquireNextFrame", hr))
            return
        try:
            desktop = Com(resource.value, "IDXGIResource")
        except DxgiError as exc:
            self._release_frame(duplication)
            self._lose(exc)
            return
        try:
            if info.LastPresentTime != 0 or self._fresh:
                self._copy_image(desktop)
                self._take_rects(duplication, info)
                if self._fresh:  # what changed while there was no duplication is unknown
                    self._log.lose()
                    self._fresh = False
        except DxgiError as exc:
            desktop.release()
            self._release_frame(duplication)
            self._lose(exc)
            return
        desktop.release()
        self._release_frame(duplication)

    def _release_frame(self, duplication: Com) -> None:
        hr = duplication.call(_DUPLICATION_RELEASE_FRAME, ())
        if hr < 0:  # ACCESS_LOST here too: seen at the next acquire, which fails the same way
            log.debug("ReleaseFrame: %s", hresult_name(hr))

    def _take_rects(self, duplication: Com, info: _FRAME_INFO) -> None:
        if info.TotalMetadataBufferSize == 0:
            return  # the image changed but DXGI names no rectangle: assume nothing skipped
        moves = self._read_metadata(
            duplication, _DUPLICATION_GET_FRAME_MOVE_RECTS, self._move_buffer, "GetFrameMoveRects"
        )
        dirty = self._read_metadata(
            duplication,
            _DUPLICATION_GET_FRAME_DIRTY_RECTS,
            self._dirty_buffer,
            "GetFrameDirtyRects",
        )
        self._log.add(
            None if dirty is None else parse_dirty_rects(dirty),
            None if moves is None else parse_move_rects(moves),
        )

    @staticmethod
    def _read_metadata(
        duplication: Com, slot: int, buffer: ctypes.Array[Any], what: str
    ) -> bytes | None:
        """The bytes DXGI wrote into ``buffer``; None when they did not fit."""
        needed = ctypes.c_uint32()
        hr = duplication.call(
            slot,
            (ctypes.c_uint32, ctypes.c_void_p, ctypes.POINTER(ctypes.c_uint32)),
            ctypes.sizeof(buffer),
            ctypes.addressof(buffer),
            ctypes.byref(needed),
        )
        if (hr & 0xFFFFFFFF) == DXGI_ERROR_MORE_DATA:
            return None
        if hr < 0:
            raise DxgiError(what, hr)
        return ctypes.string_at(ctypes.addressof(buffer), min(needed.value, ctypes.sizeof(buffer)))

    def _copy_image(self, desktop: Com) -> None:
        """The acquired desktop image into the staging texture (a copy on the GPU)."""
        assert self._device is not None and self._context is not None
        texture = desktop.query(IID_ID3D11_TEXTURE_2D, "ID3D11Texture2D")
        try:
            desc = _TEXTURE2D_DESC()
            texture.call(
                _TEXTURE_2D_GET_DESC,
                (ctypes.POINTER(_TEXTURE2D_DESC),),
                ctypes.byref(desc),
                restype=None,
            )
            if desc.Format not in _BGRA_FORMATS:
                raise DxgiError(f"desktop image format {desc.Format}, not BGRA")
            if self._staging is None or self._staging_size != (desc.Width, desc.Height):
                self._new_staging(desc)
            assert self._staging is not None
            self._context.call(
                _CONTEXT_COPY_RESOURCE,
                (ctypes.c_void_p, ctypes.c_void_p),
                self._staging.pointer,
                texture.pointer,
                restype=None,
            )
        finally:
            texture.release()
        self._picture_new = True

    def _new_staging(self, like: _TEXTURE2D_DESC) -> None:
        assert self._device is not None
        _release(self._staging)
        self._staging = None
        desc = _TEXTURE2D_DESC(
            Width=like.Width,
            Height=like.Height,
            MipLevels=1,
            ArraySize=1,
            Format=like.Format,
            SampleDesc=_SAMPLE_DESC(1, 0),
            Usage=D3D11_USAGE_STAGING,
            BindFlags=0,
            CPUAccessFlags=D3D11_CPU_ACCESS_READ,
            MiscFlags=0,
        )
        self._staging = self._device.out(
            _DEVICE_CREATE_TEXTURE_2D,
            (ctypes.POINTER(_TEXTURE2D_DESC), ctypes.c_void_p),
            ctypes.byref(desc),
            None,
            what="CreateTexture2D",
        )
        self._staging_size = (like.Width, like.Height)

    def _read_staging(self, context: Com, staging: Com) -> None:
        """The staging texture's pixels into the frame (Map waits for the GPU's copy)."""
        mapped = _MAPPED_SUBRESOURCE()
        context.check(
            _CONTEXT_MAP,
            (
                ctypes.c_void_p,
                ctypes.c_uint32,
                ctypes.c_uint32,
                ctypes.c_uint32,
                ctypes.POINTER(_MAPPED_SUBRESOURCE),
            ),
            staging.pointer,
            0,
            D3D11_MAP_READ,
            0,
            ctypes.byref(mapped),
            what="Map",
        )
        try:
            width, height = self._staging_size
            if not mapped.pData or mapped.RowPitch < width * 4:
                raise DxgiError(f"mapped {mapped.RowPitch}-byte rows for {width} pixels")
            data = (ctypes.c_ubyte * (mapped.RowPitch * height)).from_address(mapped.pData)
            rows = np.frombuffer(data, dtype=np.uint8).reshape(height, mapped.RowPitch)
            copy_picture(rows, width, self._frame)
        finally:
            context.call(
                _CONTEXT_UNMAP, (ctypes.c_void_p, ctypes.c_uint32), staging.pointer, 0, restype=None
            )
