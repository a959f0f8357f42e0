"""Reads the server's SVG QR codes (oauth/totp/qr_svg.h) back: the path's runs become a module
matrix, rasterised to a PGM that zbarimg (Debian zbar-tools) decodes. A missing zbarimg fails."""
import os
import re
import subprocess
import tempfile


def svg_modules(svg):
    size = int(re.search(r'viewBox="0 0 (\d+) \1"', svg).group(1))
    d = re.search(r'<path fill="#000" d="([^"]*)"', svg).group(1)
    runs = re.findall(r"M(\d+) (\d+)h(\d+)v1h-\3z", d)
    assert "".join(f"M{x} {y}h{n}v1h-{n}z" for x, y, n in runs) == d, "unexpected path data"
    grid = [[False] * size for _ in range(size)]
    for x, y, n in runs:
        for i in range(int(n)):
            grid[int(y)][int(x) + i] = True
    return grid


def decode_svg_qr(svg, scale=8):
    grid = svg_modules(svg)
    size = len(grid) * scale
    pixels = bytearray()
    for y in range(size):
        row = grid[y // scale]
        pixels += bytes(0 if row[x // scale] else 255 for x in range(size))
    with tempfile.NamedTemporaryFile(suffix=".pgm", delete=False) as f:
        f.write(b"P5\n%d %d\n255\n" % (size, size) + bytes(pixels))
        path = f.name
    try:
        out = subprocess.run(["zbarimg", "--quiet", "--raw", "-Sdisable", "-Sqrcode.enable", path],
                             capture_output=True, text=True, timeout=30, check=True)
        return out.stdout.rstrip("\r\n")
    finally:
        os.unlink(path)
