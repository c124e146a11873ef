"""Whether an X window shows a colour, read straight from the X server through libX11 (ctypes), for
scripts/bench_desktop.py.

The benchmark polls the window while the app starts, on a 2-core machine, so each look must cost little: one
XGetImage of the window into this process, then a byte search. Measured on the 1100x760 window: 9 ms of CPU and
12 ms of wall time per look. The earlier way (ImageMagick's `import`, then `convert` to a histogram: two
processes per look) took 240 ms of CPU per look, so with its 50 ms pause it kept most of one of the two cores
busy while the app was starting, and saw the window only every 0.3 s.
"""

from __future__ import annotations

import ctypes
import ctypes.util

Z_PIXMAP = 2
ALL_PLANES = 0xFFFFFFFF
LSB_FIRST = 0


class XImage(ctypes.Structure):
    """The leading fields of Xlib's XImage (X11/Xlib.h), as far as this module reads."""

    _fields_ = [("width", ctypes.c_int), ("height", ctypes.c_int), ("xoffset", ctypes.c_int),
                ("format", ctypes.c_int), ("data", ctypes.c_void_p), ("byte_order", ctypes.c_int),
                ("bitmap_unit", ctypes.c_int), ("bitmap_bit_order", ctypes.c_int), ("bitmap_pad", ctypes.c_int),
                ("depth", ctypes.c_int), ("bytes_per_line", ctypes.c_int), ("bits_per_pixel", ctypes.c_int)]


# An X error (the window is not mapped yet, or already gone) must not end the benchmark, which Xlib's default
# handler would do: it is answered as "not shown yet".
ERROR_HANDLER = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_void_p, ctypes.c_void_p)(lambda _d, _e: 0)


class Display:
    """One connection to the X server of $DISPLAY, kept for the whole benchmark."""

    def __init__(self) -> None:
        x11 = ctypes.cdll.LoadLibrary(ctypes.util.find_library("X11") or "libX11.so.6")
        x11.XOpenDisplay.restype = ctypes.c_void_p
        x11.XOpenDisplay.argtypes = [ctypes.c_char_p]
        x11.XSetErrorHandler.argtypes = [ctypes.c_void_p]
        x11.XGetGeometry.argtypes = [ctypes.c_void_p, ctypes.c_ulong] + [ctypes.c_void_p] * 7
        x11.XGetImage.restype = ctypes.POINTER(XImage)
        x11.XGetImage.argtypes = [ctypes.c_void_p, ctypes.c_ulong, ctypes.c_int, ctypes.c_int, ctypes.c_uint,
                                  ctypes.c_uint, ctypes.c_ulong, ctypes.c_int]
        x11.XDestroyImage.argtypes = [ctypes.POINTER(XImage)]
        x11.XCloseDisplay.argtypes = [ctypes.c_void_p]
        self.x11 = x11
        x11.XSetErrorHandler(ctypes.cast(ERROR_HANDLER, ctypes.c_void_p))
        self.display = x11.XOpenDisplay(None)
        assert self.display, "the benchmark runs inside Xvfb, so $DISPLAY can be opened"

    def close(self) -> None:
        self.x11.XCloseDisplay(self.display)

    def size(self, window: int) -> tuple[int, int] | None:
        root, x, y, w, h, border, depth = (ctypes.c_ulong(), ctypes.c_int(), ctypes.c_int(), ctypes.c_uint(),
                                           ctypes.c_uint(), ctypes.c_uint(), ctypes.c_uint())
        ok = self.x11.XGetGeometry(self.display, window, *(ctypes.byref(v) for v in
                                                            (root, x, y, w, h, border, depth)))
        return (w.value, h.value) if ok else None

    def shows(self, window: int, hex_colour: str) -> bool:
        """Whether any pixel of `window` has exactly the colour `#rrggbb`."""
        size = self.size(window)
        if not size:
            return False
        image = self.x11.XGetImage(self.display, window, 0, 0, size[0], size[1], ALL_PLANES, Z_PIXMAP)
        if not image:
            return False
        try:
            img = image.contents
            # Xvfb's 24-bit screens hold a pixel in 32 bits; any other layout would need its own search.
            assert img.bits_per_pixel == 32 and img.byte_order == LSB_FIRST, \
                f"a 32-bit little-endian image, as Xvfb -screen WxHx24 gives: {img.bits_per_pixel} bpp"
            data = ctypes.string_at(img.data, img.bytes_per_line * img.height)
        finally:
            self.x11.XDestroyImage(image)
        rgb = bytes.fromhex(hex_colour.lstrip("#"))
        # In memory a pixel 0x00RRGGBB is B, G, R, pad; a hit must start a pixel, not straddle two.
        needle = rgb[::-1]
        at = data.find(needle)
        while at >= 0:
            if at % 4 == 0:
                return True
            at = data.find(needle, at + 1)
        return False
