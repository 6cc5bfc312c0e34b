"""A small camera for the browsers of a test: a Y4M file Chromium plays in a loop as its fake
camera (--use-file-for-fake-video-capture), 160x120 at 10 frames per second, so that ten tabs
sending and ninety decoding have a chance on two cores (the built-in fake camera is 640x480 at
20 fps and the page asks for 640x480; at 320x240 and 15 fps, rooms of seven and eight stalled
here, their pages taking over 30 s to answer an offer, with other sessions' load of 40). The picture moves (a bright square crosses a gradient, a bar sweeps
down), so the encoder sends real inter frames rather than near-empty ones; the microphone stays
Chromium's beeping fake.
"""

import os

WIDTH = 160
HEIGHT = 120
FPS = 10
FRAMES = 20  # a two-second loop: 0.6 MB of I420


def _frame(i):
    """One I420 frame: the luma gradient with a bright square at a position that moves with i,
    a dark bar on row band i, and flat chroma."""
    luma = bytearray((x + y) % 200 + 16 for y in range(HEIGHT) for x in range(WIDTH))
    side = 24
    left = (i * (WIDTH - side)) // FRAMES
    top = (HEIGHT - side) // 2
    for y in range(top, top + side):
        luma[y * WIDTH + left:y * WIDTH + left + side] = b"\xeb" * side
    band = (i * HEIGHT) // FRAMES
    for y in range(band, min(HEIGHT, band + 4)):
        luma[y * WIDTH:(y + 1) * WIDTH] = b"\x20" * WIDTH
    chroma = bytes([128]) * ((WIDTH // 2) * (HEIGHT // 2))
    return bytes(luma) + chroma + chroma


def write(directory):
    """Writes the camera file into 'directory'; returns its path and the Chromium flags that use
    it (the fake-device flag stays: it still provides the microphone)."""
    path = os.path.join(directory, "camera.y4m")
    with open(path, "wb") as f:
        f.write(b"YUV4MPEG2 W%d H%d F%d:1 Ip A1:1 C420jpeg\n" % (WIDTH, HEIGHT, FPS))
        for i in range(FRAMES):
            f.write(b"FRAME\n")
            f.write(_frame(i))
    return path, ["--use-file-for-fake-video-capture=" + path]
