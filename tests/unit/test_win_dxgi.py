"""DXGI Desktop Duplication on Linux: the buffers as Windows lays them out, the coordinates, the
"cannot tell" decisions, and the vtable glue run against fake COM objects whose methods are
ctypes callbacks (the same x64 calling convention as Windows). Nothing here touches Windows;
what it checks is that our side reads, releases and recovers as the DXGI documentation says."""

from __future__ import annotations

import ctypes
import struct
import sys
import uuid
from collections import deque
from dataclasses import dataclass, field

import numpy as np
import pytest

from desktop import win_dxgi as dx
from desktop.win_dxgi import (
    MAX_DIRTY_RECTS,
    REOPEN_INTERVAL_S,
    Com,
    DirtyLog,
    DxgiApi,
    DxgiDuplication,
    DxgiUnavailable,
    Move,
    copy_picture,
    on_desktop,
    parse_dirty_rects,
    parse_move_rects,
    pick_output,
)

pytestmark = pytest.mark.skipif(
    ctypes.sizeof(ctypes.c_void_p) != 8, reason="the layouts checked are Windows x64's"
)


def rects_bytes(*rects: tuple[int, int, int, int]) -> bytes:
    """RECTs (left, top, right, bottom) as GetFrameDirtyRects writes them."""
    return b"".join(struct.pack("<4i", *r) for r in rects)


def moves_bytes(*moves: tuple[int, int, int, int, int, int]) -> bytes:
    """DXGI_OUTDUPL_MOVE_RECTs (source x, y; destination left, top, right, bottom)."""
    return b"".join(struct.pack("<6i", *m) for m in moves)


# -- layouts and parsing -------------------------------------------------------------------------
def test_structures_have_the_windows_x64_layout():
    # Sizes and offsets from the Windows SDK headers (x64): a wrong field width here would read
    # garbage on Windows and nowhere else.
    assert ctypes.sizeof(dx._RECT) == 16
    assert ctypes.sizeof(dx._MOVE_RECT) == 24
    assert ctypes.sizeof(dx._OUTPUT_DESC) == 96
    assert dx._OUTPUT_DESC.DesktopCoordinates.offset == 64
    assert dx._OUTPUT_DESC.Rotation.offset == 84
    assert dx._OUTPUT_DESC.Monitor.offset == 88
    assert ctypes.sizeof(dx._FRAME_INFO) == 48
    assert dx._FRAME_INFO.TotalMetadataBufferSize.offset == 40
    assert ctypes.sizeof(dx._TEXTURE2D_DESC) == 44
    assert ctypes.sizeof(dx._MAPPED_SUBRESOURCE) == 16
    assert bytes(dx._guid("6f15aaf2-d208-4e89-9ab4-489535d34f9c"))[:4] == b"\xf2\xaa\x15\x6f"


def test_dirty_rects_are_read_as_windows_writes_them():
    buffer = rects_bytes((10, 20, 30, 25), (-5, 0, 3, 1), (7, 7, 7, 9), (9, 9, 4, 12))
    # Empty and inverted rectangles mean nothing drawn; negatives stay for the clipping.
    assert parse_dirty_rects(buffer) == [(10, 20, 20, 5), (-5, 0, 8, 1)]
    # What DXGI says it wrote may end mid-rectangle: only whole ones count.
    assert parse_dirty_rects(buffer[:20]) == [(10, 20, 20, 5)]
    array = (dx._RECT * 1)(dx._RECT(1, 2, 3, 4))
    assert parse_dirty_rects(bytes(array)) == [(1, 2, 2, 2)]


def test_move_rects_keep_their_source_point():
    buffer = moves_bytes((0, 40, 0, 0, 800, 560), (5, 5, 9, 9, 9, 20))
    assert parse_move_rects(buffer) == [Move((0, 40), (0, 0, 800, 560))]
    assert parse_move_rects(buffer[:30]) == [Move((0, 40), (0, 0, 800, 560))]


def test_rectangles_become_desktop_pixels_of_the_output_and_are_clipped_to_it():
    left_monitor = (-1280, 200, 1280, 1024)  # left of the primary, lower
    assert on_desktop((0, 0, 10, 10), left_monitor) == (-1280, 200, 10, 10)
    assert on_desktop((1275, 1020, 20, 20), left_monitor) == (-5, 1220, 5, 4)
    assert on_desktop((-8, -8, 10, 10), left_monitor) == (-1280, 200, 2, 2)
    assert on_desktop((1280, 0, 10, 10), left_monitor) is None


# -- what was drawn since the last look ----------------------------------------------------------
SECOND = (1920, 0, 1280, 1024)


def test_a_new_duplication_cannot_tell_then_reports_frames_in_order():
    log = DirtyLog(SECOND)
    log.add([(0, 0, 5, 5)], [])
    assert log.take() == (None, [])  # what happened before it existed is unknown
    assert log.take() == ([], [])
    log.add([(100, 100, 8, 16)], [Move((0, 64), (0, 0, 600, 400))])
    log.add([(1, 2, 3, 4)], [])
    rects, moves = log.take()
    # The move's destination first (DWM applies moves before dirty rectangles), all on the
    # desktop; the move itself kept with its source point on the desktop too.
    assert rects == [(1920, 0, 600, 400), (2020, 100, 8, 16), (1921, 2, 3, 4)]
    assert moves == [Move((1920, 64), (1920, 0, 600, 400))]
    assert log.take() == ([], [])


def test_a_move_cut_by_the_output_edge_is_damage_but_no_copy_hint():
    log = DirtyLog(SECOND)
    log.take()
    log.add([], [Move((0, 0), (1200, 0, 200, 100))])
    assert log.take() == ([(3120, 0, 80, 100)], [])


def test_too_many_rectangles_count_as_the_whole_output():
    log = DirtyLog(SECOND)
    log.take()
    log.add([(i, 0, 1, 1) for i in range(MAX_DIRTY_RECTS)], [])
    log.add([(0, 0, 1, 1)], [Move((0, 8), (0, 0, 10, 10))])
    assert log.take() == ([SECOND], [])
    log.add(None, [])  # DXGI_ERROR_MORE_DATA: the buffer could not hold them
    assert log.take() == ([SECOND], [])
    log.add([(0, 0, 1, 1)], [])
    assert log.take() == ([(1920, 0, 1, 1)], [])


def test_a_lost_duplication_cannot_tell():
    log = DirtyLog(SECOND)
    log.take()
    log.add([(0, 0, 1, 1)], [Move((0, 8), (0, 0, 10, 10))])
    log.lose()
    log.add([(5, 5, 1, 1)], [])
    assert log.take() == (None, [])


def test_the_output_is_found_by_place_then_by_name():
    outputs = [("\\\\.\\DISPLAY1", (0, 0, 1920, 1080)), ("\\\\.\\DISPLAY2", SECOND)]
    assert pick_output(outputs, SECOND, None) == 1
    assert pick_output(outputs, (1920, 0, 1280, 1000), None) == -1
    # After a mode change the place differs; the name found first still holds.
    resized = [("\\\\.\\DISPLAY1", (0, 0, 1920, 1080)), ("\\\\.\\DISPLAY2", (1920, 0, 1024, 768))]
    assert pick_output(resized, SECOND, "\\\\.\\DISPLAY2") == 1
    assert pick_output(resized[:1], SECOND, "\\\\.\\DISPLAY2") == -1


# -- reading the mapped picture ------------------------------------------------------------------
def padded(pixels: np.ndarray, pitch: int) -> np.ndarray:
    """``pixels`` as Map hands them out: rows of ``pitch`` bytes, the rest garbage."""
    h, w = pixels.shape[:2]
    rows = np.full((h, pitch), 0xEE, dtype=np.uint8)
    rows[:, : w * 4] = pixels.reshape(h, w * 4)
    return rows


def test_the_picture_is_read_row_by_row_past_the_padding():
    pixels = np.random.default_rng(1).integers(0, 255, (6, 10, 4), dtype=np.uint8)
    out = np.full((6, 10, 4), 7, dtype=np.uint8)
    copy_picture(padded(pixels, 64), 10, out)
    assert np.array_equal(out, pixels)


def test_a_picture_of_another_size_is_cut_or_padded_with_black():
    pixels = np.random.default_rng(2).integers(1, 255, (6, 10, 4), dtype=np.uint8)
    smaller = np.full((8, 12, 4), 7, dtype=np.uint8)
    copy_picture(padded(pixels, 48), 10, smaller)
    assert np.array_equal(smaller[:6, :10], pixels)
    assert not smaller[6:].any() and not smaller[:, 10:].any()
    larger = np.zeros((4, 8, 4), dtype=np.uint8)
    copy_picture(padded(pixels, 48), 10, larger)
    assert np.array_equal(larger, pixels[:4, :8])
    with pytest.raises(ValueError):
        copy_picture(padded(pixels, 40), 11, larger)


# -- the COM glue against fake objects -----------------------------------------------------------
def signed(code: int) -> int:
    return code - (1 << 32) if code >= 1 << 31 else code


def write_pointer(address: int, value: int) -> None:
    ctypes.c_void_p.from_address(address).value = value


class FakeCom:
    """A COM object whose vtable slots call Python; counts its references."""

    def __init__(self, world: FakeWindows, methods: dict, interfaces: dict | None = None):
        self.refs = 1
        self.interfaces = interfaces or {}
        slots = {
            0: (ctypes.c_int32, (ctypes.c_void_p, ctypes.c_void_p), self._query),
            1: (ctypes.c_uint32, (), self._add_ref),
            2: (ctypes.c_uint32, (), self._release),
            **methods,
        }
        self._vtable = (ctypes.c_void_p * (max(slots) + 1))()
        self._callbacks = []
        for slot, (restype, argtypes, function) in slots.items():
            prototype = ctypes.CFUNCTYPE(restype, ctypes.c_void_p, *argtypes)
            callback = prototype(lambda this, *args, f=function: f(*args))
            self._callbacks.append(callback)
            self._vtable[slot] = ctypes.cast(callback, ctypes.c_void_p).value
        self._object = (ctypes.c_void_p * 1)(ctypes.addressof(self._vtable))
        self.pointer = ctypes.addressof(self._object)
        world.objects[self.pointer] = self

    def _query(self, riid: int, out: int) -> int:
        iid = str(uuid.UUID(bytes_le=ctypes.string_at(riid, 16)))
        target = self.interfaces.get(iid)
        if target is None:
            return signed(dx.E_NOINTERFACE)
        target.refs += 1
        write_pointer(out, target.pointer)
        return 0

    def _add_ref(self) -> int:
        self.refs += 1
        return self.refs

    def _release(self) -> int:
        self.refs -= 1
        assert self.refs >= 0
        return self.refs


@dataclass
class Frame:
    pixels: np.ndarray
    dirty: bytes = b""
    moves: bytes = b""
    present: bool = True  # False: only the pointer moved


@dataclass
class FakeWindows:
    """One adapter with the outputs given (name, left, top, width, height)."""

    outputs: list = field(
        default_factory=lambda: [
            ("\\\\.\\DISPLAY1", (0, 0, 1920, 1080)),
            ("\\\\.\\DISPLAY2", (1920, 0, 64, 48)),
        ]
    )
    rotation: int = dx.DXGI_MODE_ROTATION_IDENTITY
    pitch_padding: int = 32

    def __post_init__(self) -> None:
        self.objects: dict[int, FakeCom] = {}
        self.frames: deque = deque()  # what AcquireNextFrame hands out: a Frame or an HRESULT
        self.duplicate_results: deque = deque()  # HRESULTs DuplicateOutput fails with first
        self.duplications = 0
        self.maps = 0
        self.acquired = 0
        self.released_frames = 0
        self.staging: dict[int, np.ndarray] = {}

    def api(self) -> DxgiApi:
        return DxgiApi(self.create_factory, self.create_device)

    def live(self) -> list[FakeCom]:
        return [o for o in self.objects.values() if o.refs > 0]

    # entry points
    def create_factory(self) -> Com:
        factory = FakeCom(
            self, {12: (ctypes.c_int32, (ctypes.c_uint32, ctypes.c_void_p), self._enum_adapters)}
        )
        return Com(factory.pointer, "factory")

    def create_device(self, adapter: Com) -> tuple[Com, Com]:
        device = FakeCom(
            self,
            {5: (ctypes.c_int32, (ctypes.c_void_p,) * 3, self._create_texture)},
        )
        context = FakeCom(
            self,
            {
                14: (
                    ctypes.c_int32,
                    (ctypes.c_void_p, *(ctypes.c_uint32,) * 3, ctypes.c_void_p),
                    self._map,
                ),
                15: (None, (ctypes.c_void_p, ctypes.c_uint32), lambda *a: None),
                47: (None, (ctypes.c_void_p, ctypes.c_void_p), self._copy),
            },
        )
        return Com(device.pointer, "device"), Com(context.pointer, "context")

    # DXGI
    def _enum_adapters(self, index: int, out: int) -> int:
        if index > 0:
            return signed(dx.DXGI_ERROR_NOT_FOUND)
        adapter = FakeCom(
            self, {7: (ctypes.c_int32, (ctypes.c_uint32, ctypes.c_void_p), self._enum_outputs)}
        )
        write_pointer(out, adapter.pointer)
        return 0

    def _enum_outputs(self, index: int, out: int) -> int:
        if index >= len(self.outputs):
            return signed(dx.DXGI_ERROR_NOT_FOUND)
        name, (left, top, width, height) = self.outputs[index]

        def get_desc(address: int) -> int:
            desc = dx._OUTPUT_DESC.from_address(address)
            for i, char in enumerate(name.encode("utf-16-le")[::2]):
                desc.DeviceName[i] = char
            desc.DesktopCoordinates = dx._RECT(left, top, left + width, top + height)
            desc.AttachedToDesktop = 1
            desc.Rotation = self.rotation
            return 0

        output1 = FakeCom(self, {22: (ctypes.c_int32, (ctypes.c_void_p,) * 2, self._duplicate)})
        output = FakeCom(
            self,
            {7: (ctypes.c_int32, (ctypes.c_void_p,), get_desc)},
            {dx.IID_IDXGI_OUTPUT1: output1},
        )
        output1.refs = 0  # reachable only through QueryInterface
        write_pointer(out, output.pointer)
        return 0

    def _duplicate(self, device: int, out: int) -> int:
        assert self.objects[device].refs > 0
        if self.duplicate_results:
            return signed(self.duplicate_results.popleft())
        self.duplications += 1
        duplication = FakeCom(
            self,
            {
                8: (
                    ctypes.c_int32,
                    (ctypes.c_uint32, ctypes.c_void_p, ctypes.c_void_p),
                    self._acquire,
                ),
                9: (ctypes.c_int32, (ctypes.c_uint32,) + (ctypes.c_void_p,) * 2, self._dirty),
                10: (ctypes.c_int32, (ctypes.c_uint32,) + (ctypes.c_void_p,) * 2, self._moves),
                14: (ctypes.c_int32, (), self._release_frame),
            },
        )
        write_pointer(out, duplication.pointer)
        return 0

    def _acquire(self, timeout_ms: int, info_address: int, out: int) -> int:
        if not self.frames:
            return signed(dx.DXGI_ERROR_WAIT_TIMEOUT)
        frame = self.frames.popleft()
        if isinstance(frame, int):
            return signed(frame)
        self.acquired += 1
        self.current = frame
        info = dx._FRAME_INFO.from_address(info_address)
        info.LastPresentTime = 1 if frame.present else 0
        info.TotalMetadataBufferSize = len(frame.dirty) + len(frame.moves)
        h, w = frame.pixels.shape[:2]

        def texture_desc(address: int) -> None:
            desc = dx._TEXTURE2D_DESC.from_address(address)
            desc.Width, desc.Height, desc.Format = w, h, dx.DXGI_FORMAT_B8G8R8A8_UNORM

        texture = FakeCom(self, {10: (None, (ctypes.c_void_p,), texture_desc)})
        texture.refs = 0
        texture.frame = frame
        resource = FakeCom(self, {}, {dx.IID_ID3D11_TEXTURE_2D: texture})
        write_pointer(out, resource.pointer)
        return 0

    def _metadata(self, data: bytes, size: int, buffer: int, needed: int) -> int:
        ctypes.c_uint32.from_address(needed).value = len(data)
        if len(data) > size:
            return signed(dx.DXGI_ERROR_MORE_DATA)
        ctypes.memmove(buffer, data, len(data))
        return 0

    def _dirty(self, size: int, buffer: int, needed: int) -> int:
        return self._metadata(self.current.dirty, size, buffer, needed)

    def _moves(self, size: int, buffer: int, needed: int) -> int:
        return self._metadata(self.current.moves, size, buffer, needed)

    def _release_frame(self) -> int:
        self.released_frames += 1
        return 0

    # Direct3D
    def _create_texture(self, desc_address: int, initial: int, out: int) -> int:
        desc = dx._TEXTURE2D_DESC.from_address(desc_address)
        assert (desc.Usage, desc.CPUAccessFlags, desc.BindFlags) == (
            dx.D3D11_USAGE_STAGING,
            dx.D3D11_CPU_ACCESS_READ,
            0,
        )
        staging = FakeCom(self, {})
        pitch = desc.Width * 4 + self.pitch_padding
        self.staging[staging.pointer] = np.full((desc.Height, pitch), 0xEE, dtype=np.uint8)
        write_pointer(out, staging.pointer)
        return 0

    def _copy(self, destination: int, source: int) -> None:
        pixels = self.objects[source].frame.pixels
        h, w = pixels.shape[:2]
        self.staging[destination][:, : w * 4] = pixels.reshape(h, w * 4)

    def _map(self, resource: int, subresource: int, kind: int, flags: int, out: int) -> int:
        assert kind == dx.D3D11_MAP_READ
        self.maps += 1
        rows = self.staging[resource]
        mapped = dx._MAPPED_SUBRESOURCE.from_address(out)
        mapped.pData = rows.ctypes.data
        mapped.RowPitch = rows.shape[1]
        return 0


def picture(seed: int, w: int = 64, h: int = 48) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 255, (h, w, 4), dtype=np.uint8)


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def open_second(world: FakeWindows, clock: Clock | None = None) -> DxgiDuplication:
    return DxgiDuplication((1920, 0, 64, 48), api=world.api(), clock=clock or Clock())


def test_the_monitor_is_duplicated_and_its_first_frame_is_the_first_picture():
    world = FakeWindows()
    world.frames.append(Frame(picture(1), rects_bytes((0, 0, 64, 48))))
    with open_second(world) as dup:
        assert dup.size == (64, 48)
        assert world.duplications == 1 and world.acquired == 1 and world.released_frames == 1
        assert np.array_equal(dup.grab(), picture(1))
        assert dup.take() is None  # the first frame: what came before is unknown
        assert dup.take() == []  # DXGI_ERROR_WAIT_TIMEOUT: nothing drawn
        assert np.array_equal(dup.grab(), picture(1))
        assert world.maps == 1  # nothing new: the picture is not read again
        # Only the enumerated output that shows the monitor (and the device) stay held.
        assert all(o.refs <= 1 for o in world.live())
    assert world.live() == []


def test_drawn_and_moved_rectangles_come_in_desktop_pixels_and_the_new_picture_with_them():
    world = FakeWindows()
    world.frames.append(Frame(picture(1)))
    dup = open_second(world)
    dup.take()
    world.frames.append(
        Frame(picture(2), rects_bytes((10, 20, 14, 21)), moves_bytes((0, 8, 0, 0, 64, 40)))
    )
    # One acquire takes in all DWM drew since the last: the moves' destinations first (DWM
    # applies them before the dirty rectangles), the moves kept with their source on the desktop.
    assert dup.take() == [(1920, 0, 64, 40), (1930, 20, 4, 1)]
    assert dup.moves == [Move((1920, 8), (1920, 0, 64, 40))]
    assert np.array_equal(dup.grab(), picture(2))
    # A frame the grab took in shows in the picture now and in the rectangles at the next take.
    world.frames.append(Frame(picture(3), rects_bytes((60, 40, 70, 50))))
    assert np.array_equal(dup.grab(), picture(3))
    assert dup.take() == [(1980, 40, 4, 8)] and dup.moves == []
    world.frames.append(Frame(picture(3), present=False))  # the pointer moved, nothing else
    assert dup.take() == [] and dup.moves == []
    assert world.released_frames == world.acquired == 4
    dup.close()
    assert world.live() == []


def test_rectangles_beyond_the_buffer_count_as_the_whole_monitor():
    world = FakeWindows()
    world.frames.append(Frame(picture(1)))
    dup = open_second(world)
    dup.take()
    world.frames.append(Frame(picture(2), rects_bytes(*[(0, 0, 1, 1)] * (MAX_DIRTY_RECTS + 1))))
    assert dup.take() == [(1920, 0, 64, 48)]
    dup.close()


def test_access_lost_releases_everything_and_the_next_look_duplicates_again():
    world = FakeWindows()
    world.frames.append(Frame(picture(1)))
    dup = open_second(world)
    dup.take()
    assert np.array_equal(dup.grab(), picture(1))
    world.frames.extend([dx.DXGI_ERROR_ACCESS_LOST, Frame(picture(4), rects_bytes((0, 0, 1, 1)))])
    assert dup.take() is None  # lost: cannot tell
    assert world.live() == []  # the duplication, device, context and staging all released
    assert np.array_equal(dup.grab(), picture(4))  # made again, and its first frame read
    assert world.duplications == 2
    assert dup.take() is None  # a new duplication says nothing about what it missed
    assert dup.take() == []
    dup.close()
    assert world.live() == []


def test_while_windows_refuses_the_picture_stays_and_it_is_asked_again_only_now_and_then():
    world = FakeWindows()
    world.frames.append(Frame(picture(1)))
    clock = Clock()
    dup = open_second(world, clock)
    dup.take()
    dup.grab()
    # UAC's secure desktop: the duplication is lost and cannot be made again for a while.
    world.frames.append(dx.DXGI_ERROR_ACCESS_LOST)
    world.duplicate_results.extend([dx.E_ACCESSDENIED] * 2)
    assert dup.take() is None
    assert dup.take() is None  # asked at once, refused (1st)
    assert dup.take() is None and len(world.duplicate_results) == 1  # not asked again yet
    assert np.array_equal(dup.grab(), picture(1))
    clock.now += REOPEN_INTERVAL_S
    assert dup.take() is None and not world.duplicate_results  # refused (2nd)
    clock.now += REOPEN_INTERVAL_S
    world.frames.append(Frame(picture(5)))
    assert dup.take() is None  # back, first frame read
    assert np.array_equal(dup.grab(), picture(5))
    assert dup.take() == []
    dup.close()
    assert world.live() == []


def test_a_session_started_on_the_secure_desktop_keeps_trying():
    world = FakeWindows()
    world.duplicate_results.append(dx.E_ACCESSDENIED)
    clock = Clock()
    dup = open_second(world, clock)
    assert not dup.grab().any()  # black until Windows lets us duplicate
    assert world.live() == []
    clock.now += REOPEN_INTERVAL_S
    world.frames.append(Frame(picture(6)))
    assert np.array_equal(dup.grab(), picture(6))
    dup.close()


@pytest.mark.parametrize(
    ("world", "refusal"),
    [
        (FakeWindows(), dx.DXGI_ERROR_UNSUPPORTED),  # a Remote Desktop session, 8 bpp
        (FakeWindows(), dx.DXGI_ERROR_NOT_CURRENTLY_AVAILABLE),  # four duplicators already
        (FakeWindows(rotation=2), None),
        (FakeWindows(outputs=[("\\\\.\\DISPLAY1", (0, 0, 1920, 1080))]), None),
    ],
)
def test_no_duplication_to_be_had_says_so_and_holds_nothing(world, refusal):
    if refusal is not None:
        world.duplicate_results.append(refusal)
    with pytest.raises(DxgiUnavailable):
        open_second(world)
    assert world.live() == []


@pytest.mark.skipif(sys.platform == "win32", reason="the real thing is there")
def test_elsewhere_than_windows_there_is_no_duplication():
    with pytest.raises(DxgiUnavailable):
        DxgiDuplication((0, 0, 64, 48))
