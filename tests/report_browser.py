"""Render the HTML report in headless Chromium at a given width and measure its charts."""

from __future__ import annotations

import html
import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

# Measures, after layout, whether any chart or table sticks out of its container or the page.
_PROBE = """<script>
(function () {
  var out = {width: window.innerWidth, page: document.documentElement.scrollWidth, over: []};
  document.querySelectorAll("svg.chart, figure, .scroll, .kpis").forEach(function (el) {
    var box = el.getBoundingClientRect(), parent = el.parentElement.getBoundingClientRect();
    if (box.right > parent.right + 0.5 || box.left < parent.left - 0.5 || box.width === 0) {
      out.over.push(el.tagName + "." + el.getAttribute("class"));
    }
  });
  out.charts = document.querySelectorAll("svg.chart").length;
  out.chartWidths = Array.prototype.map.call(document.querySelectorAll("svg.chart"),
    function (el) { return el.getBoundingClientRect().width; });
  // The page sits in a same-origin frame of the wanted width; the result goes to the top page.
  var pre = parent.document.createElement("pre");
  pre.id = "probe";
  pre.textContent = JSON.stringify(out);
  parent.document.body.appendChild(pre);
})();
</script>"""


def chromium() -> str:
    """The browser, or a skip (a failure on CI, where .ci/run installs it)."""
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    if os.environ.get("CI") == "true":
        pytest.fail("CI=true but no Chromium: .ci/run should have installed it")
    pytest.skip("no Chromium on this machine (apt-get install chromium)")


def measure(page: str, width: int, tmp: Path) -> dict[str, Any]:
    """Lay the page out `width` CSS pixels wide and return what the probe measured."""
    # Headless windows are at least 500 px wide: a frame gives a phone's 390 px exactly.
    framed = html.escape(page.replace("</body>", _PROBE + "</body>"), quote=True)
    probed = tmp / f"report-{width}.html"
    probed.write_text(
        '<!DOCTYPE html><html><body style="margin:0">'
        f'<iframe style="width:{width}px;height:3000px;border:0" srcdoc="{framed}"></iframe>'
        "</body></html>",
        encoding="utf-8",
    )
    dom = subprocess.run(
        [
            chromium(),
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-extensions",
            "--no-first-run",
            "--hide-scrollbars",
            f"--user-data-dir={tmp / f'profile-{width}'}",
            f"--window-size={width + 100},3000",
            "--dump-dom",
            probed.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    ).stdout
    found = re.search(r'<pre id="probe">(.*?)</pre>', dom, re.DOTALL)
    assert found, dom[-2000:]
    return dict(json.loads(found[1].replace("&quot;", '"').replace("&amp;", "&")))
