"""End to end: a paged incident through `triage console` (provider stand-ins on loopback), then
its postmortem as Markdown and as a self-contained HTML file opened in a real headless Chromium:
the screenshot is not blank, the rendered page has the text, and the report tells the truth
(peak severity, time to acknowledge from the page's acknowledgement, everyone paged)."""
import os
import re
import shutil
import struct
import subprocess
import time
import zlib
from pathlib import Path

import pytest

from test_paging_console import BINARY, OG_KEY, PD_KEY, config, receivers, requests_of  # noqa: F401 (fixture)

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")

pytestmark = pytest.mark.skipif(not BINARY, reason="TRIAGE_BINARY is not set")


def png_pixels(path):
    """(width, height, rows of RGB(A) bytes) of a PNG, with the standard library only."""
    data = Path(path).read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, idat, width = 8, b"", 0
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        chunk = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            width, height, depth, color = struct.unpack(">IIBB", chunk[:10])
            assert depth == 8 and color in (2, 6), (depth, color)
            channels = 3 if color == 2 else 4
        elif kind == b"IDAT":
            idat += chunk
        pos += 12 + length
    raw = zlib.decompress(idat)
    stride = width * channels
    rows, prev, i = [], bytearray(stride), 0
    for _ in range(height):
        f, line = raw[i], bytearray(raw[i + 1:i + 1 + stride])
        i += 1 + stride
        for x in range(stride):
            a = line[x - channels] if x >= channels else 0
            b, c = prev[x], prev[x - channels] if x >= channels else 0
            if f == 1:
                line[x] = (line[x] + a) & 0xFF
            elif f == 2:
                line[x] = (line[x] + b) & 0xFF
            elif f == 3:
                line[x] = (line[x] + (a + b) // 2) & 0xFF
            elif f == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[x] = (line[x] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 0xFF
        rows.append(bytes(line))
        prev = line
    return width, height, channels, rows


def chromium(*args, timeout=120):
    return subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                           "--hide-scrollbars", "--no-first-run", *args], capture_output=True, text=True, timeout=timeout)


def test_paged_incident_postmortem_in_markdown_and_html_in_chromium(tmp_path, receivers):
    cfg = config(tmp_path, receivers)
    env = dict(os.environ, E2E_PD_KEY=PD_KEY, E2E_OG_KEY=OG_KEY, TRIAGE_LOG_LEVEL="error")
    console = subprocess.Popen([BINARY, "console", "--config", str(cfg)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True, env=env)

    def say(line):
        console.stdin.write(line + "\n")
        console.stdin.flush()

    try:
        say("/incident open sev1 Checkout <down> & orders failing")
        deadline = time.time() + 20
        while time.time() < deadline and not any(r["service"] == "pagerduty" and r["status"] == 202 for r in requests_of(receivers)):
            time.sleep(0.2)
        say("/status identified")          # not an acknowledgement of the page
        say("/pg connections")             # recorded (with its error: no database here)
        time.sleep(1.2)
        say("/ack")
        deadline = time.time() + 20
        while time.time() < deadline and not any(r["service"] == "pagerduty" and r["body"].get("event_action") == "acknowledge"
                                                 for r in requests_of(receivers)):
            time.sleep(0.2)
        say("/sev sev2")
        say("/action add a replica lag alert")
        out, err = console.communicate(input="/resolve failed over to the replica\n", timeout=60)
    finally:
        if console.poll() is None:
            console.kill()
    assert console.returncode == 0, err

    md_path, html_path = tmp_path / "pm.md", tmp_path / "pm.html"
    for fmt, path in (("markdown", md_path), ("html", html_path)):
        r = subprocess.run([BINARY, "postmortem", "1", "--config", str(cfg), "--format", fmt, "-o", str(path)], env=env,
                           capture_output=True, text=True, timeout=60)
        assert r.returncode == 0, r.stderr
    md = md_path.read_text()
    assert "| **Severity** | sev2 (peak sev1: opened sev1, lowered to sev2 at " in md
    assert "the first human acknowledgement of a page: Page #1 acknowledged by @zoe" in md
    assert "provider delivery lines folded into their pages" in md
    # Whoever the schedule paged this week is a participant, though they never typed anything.
    assert re.search(r"\| @(alice|bob) \| paged \| 0 \| 20\d\d-", md), md
    assert (tmp_path / "incident-1-timeline.svg").exists()

    html = html_path.read_text()
    assert html.startswith("<!DOCTYPE html>") and "<svg" in html and "<details>" in html
    assert "Checkout &lt;down&gt; &amp; orders failing" in html
    if not CHROMIUM:
        pytest.skip("chromium is not installed (scripts/install-deps.sh --test installs it)")

    shot = tmp_path / "shot.png"
    r = chromium("--window-size=1280,1600", "--screenshot=%s" % shot, html_path.as_uri())
    assert shot.exists(), r.stderr[-2000:]
    width, height, channels, rows = png_pixels(shot)
    assert (width, height) == (1280, 1600)
    colours, dark = set(), 0
    for y in range(0, height, 4):
        row = rows[y]
        for x in range(0, width * channels, channels * 4):
            px = row[x:x + 3]
            colours.add(px)
            if sum(px) < 200:
                dark += 1
    samples = (height // 4) * (width // 4)
    assert len(colours) > 20, "the screenshot is blank (%d colours)" % len(colours)
    assert dark > samples * 0.002, "no text drawn (%d dark samples of %d)" % (dark, samples)
    # The phase bands of the picture are drawn (investigating red, identified yellow, …).
    def near(c, ref):
        return all(abs(a - b) <= 6 for a, b in zip(c, ref))
    bands = [(0xF8, 0xD7, 0xDA), (0xFF, 0xF3, 0xCD), (0xD1, 0xEC, 0xF1)]
    assert any(near(c, ref) for c in colours for ref in bands), "the timeline picture is not drawn"

    # The text as Chromium rendered it (the DOM after parsing, scripts or not).
    dom = chromium("--dump-dom", html_path.as_uri()).stdout
    for text in ["Postmortem: incident #1", "Key moments", "Participants and roles", "peak sev1", "Commands run",
                 "add a replica lag alert", "failed over to the replica"]:
        assert text in dom, text
