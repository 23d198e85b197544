"""The HTML digest really renders in a browser: headless Chromium screenshots, decoded with zlib only."""

from __future__ import annotations

import os
import shutil
import struct
import subprocess
import zlib
from collections import Counter
from pathlib import Path

import pytest

from functions.digest import build_digest, render_digest
from tests.fixtures.digest import seed

CHROMIUM = shutil.which("chromium") or ("/usr/bin/chromium" if os.path.exists("/usr/bin/chromium") else None)
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed (Debian: apt-get install chromium)")

NAVY = (0x0F, 0x27, 0x47)  # the header colour: present only if the inlined CSS applied
HIGHLIGHT = (0xFD, 0xE6, 0x8A)  # <mark> background


def screenshot(html_path: Path, png: Path, size: tuple[int, int], profile: Path) -> None:
    """Run headless Chromium on a local file, never touching the network."""
    command = [
        str(CHROMIUM), "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync", "--hide-scrollbars",
        f"--user-data-dir={profile}", f"--screenshot={png}", f"--window-size={size[0]},{size[1]}",
        html_path.as_uri(),
    ]  # fmt: skip
    subprocess.run(command, check=True, capture_output=True, timeout=120)


def decode_png(data: bytes) -> tuple[int, int, list[tuple[int, ...]]]:
    """(width, height, pixels) of an 8-bit RGB/RGBA PNG, unfiltered with zlib and arithmetic only."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, idat, header = 8, b"", None
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind, body = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + length]
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    assert header is not None
    width, height, depth, color, _, _, interlace = header
    assert depth == 8 and color in (2, 6) and interlace == 0, f"unexpected PNG format {header}"
    channels = 3 if color == 2 else 4
    raw, stride = zlib.decompress(idat), width * channels
    pixels: list[tuple[int, ...]] = []
    previous = bytearray(stride)
    for row in range(height):
        start = row * (stride + 1)
        kind, line = raw[start], bytearray(raw[start + 1 : start + 1 + stride])
        for i in range(stride):
            left = line[i - channels] if i >= channels else 0
            up, up_left = previous[i], previous[i - channels] if i >= channels else 0
            if kind == 1:
                line[i] = (line[i] + left) & 0xFF
            elif kind == 2:
                line[i] = (line[i] + up) & 0xFF
            elif kind == 3:
                line[i] = (line[i] + (left + up) // 2) & 0xFF
            elif kind == 4:
                p = left + up - up_left
                pa, pb, pc = abs(p - left), abs(p - up), abs(p - up_left)
                line[i] = (line[i] + (left if pa <= pb and pa <= pc else up if pb <= pc else up_left)) & 0xFF
        pixels.extend(tuple(line[i : i + 3]) for i in range(0, stride, channels))
        previous = line
    return width, height, pixels


@pytest.fixture(scope="module")
def digest_html(tmp_path_factory) -> Path:
    import boto3
    from moto import mock_aws

    from functions.store import FindingsStore

    with mock_aws():
        s3 = boto3.client("s3", region_name="us-east-1")
        s3.create_bucket(Bucket="screenshot-bucket")
        store = FindingsStore(s3, "screenshot-bucket")
        seed.seed_all(store)
        digest = build_digest(store, seed.accounts(), period_end=seed.PERIOD_END, now=seed.NOW)
    path = tmp_path_factory.mktemp("digest") / "digest.html"
    path.write_text(render_digest(digest, report_url=seed.REPORT_URL).html, encoding="utf-8")
    return path


@pytest.mark.slow
@pytest.mark.parametrize("size", [(800, 1800), (390, 1400)], ids=["desktop", "phone"])
def test_digest_screenshot_is_a_real_rendered_page(digest_html, tmp_path, size):
    png = Path(os.environ.get("SOCIALAUDIT_SCREENSHOT_DIR", tmp_path)) / f"digest-{size[0]}.png"
    screenshot(digest_html, png, size, tmp_path / "profile")
    assert png.exists() and png.stat().st_size > 10_000
    width, height, pixels = decode_png(png.read_bytes())
    assert (width, height) == size
    colours = Counter(pixels)
    background_share = colours.most_common(1)[0][1] / len(pixels)
    assert len(colours) > 200, "too few colours: a blank or unstyled page"
    assert background_share < 0.6, "the page is mostly one colour"
    assert colours[NAVY] > width * 40, "the navy header is missing: inlined CSS did not apply"
    assert colours[HIGHLIGHT] > 500, "no highlighted evidence is visible"
    # A phone-width page must not be wider than the screen: the right-most column is page background.
    right_edge = {pixels[row * width + width - 1] for row in range(0, height, 10)}
    assert len(right_edge) <= 3, "content overflows the viewport on the right"
