"""The HTML report, seen by a browser: build ``snakemake --report`` on a smoke run, open it in headless Chromium and
check that the app renders and that every figure decodes.

A Snakemake 9 report is a single-page React app. Every result is an entry of the global ``results`` object
(``mime_type``, ``caption``, ``data_uri``); the figures are PNG data URIs that the app puts into ``<img>`` tags on
demand. "Every figure loads" therefore means: the app has rendered its menu, and for every ``image/*`` entry an
``<img>`` with that data URI fires ``load`` with ``naturalWidth > 0`` inside the page. The browser is driven over
``--remote-debugging-pipe`` with a minimal Chrome DevTools Protocol exchange (NUL-separated JSON on fds 3 and 4).
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

import pytest
from conftest import snakemake

pytestmark = [pytest.mark.workflow, pytest.mark.browser]

CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)


def find_chromium() -> str | None:
    """The Chromium binary: $CHROMIUM, else the first of chromium / chromium-browser / google-chrome on PATH."""
    env = os.environ.get("CHROMIUM")
    if env and Path(env).exists():
        return env
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        path = shutil.which(name)
        if path:
            return path
    return None


class Browser:
    """Headless Chromium driven over ``--remote-debugging-pipe`` (one page, flattened session)."""

    def __init__(self, binary: str, timeout: float = 60.0):
        self.timeout = timeout
        self.profile = tempfile.mkdtemp(prefix="bows-chromium-")
        r_chrome, self._w = os.pipe()  # Chromium reads commands on fd 3
        self._r, w_chrome = os.pipe()  # and writes replies on fd 4

        def _fds() -> None:
            os.dup2(r_chrome, 3)
            os.dup2(w_chrome, 4)

        args = [binary, *CHROMIUM_FLAGS, f"--user-data-dir={self.profile}", "--remote-debugging-pipe", "about:blank"]
        self.proc = subprocess.Popen(
            args, preexec_fn=_fds, pass_fds=(3, 4), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        os.close(r_chrome)
        os.close(w_chrome)
        self._buf = b""
        self._id = 0
        target = self.send("Target.createTarget", {"url": "about:blank"})
        self.session = self.send("Target.attachToTarget", {"targetId": target["targetId"], "flatten": True})[
            "sessionId"
        ]

    def send(self, method: str, params: dict | None = None, session: str | None = None) -> dict:
        """Send one CDP command and return its result (events arriving meanwhile are skipped)."""
        self._id += 1
        msg: dict[str, Any] = {"id": self._id, "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = session
        os.write(self._w, json.dumps(msg).encode() + b"\0")
        deadline = time.monotonic() + self.timeout
        while True:
            while b"\0" not in self._buf:
                if time.monotonic() > deadline:
                    raise TimeoutError(f"no reply to {method} from Chromium")
                chunk = os.read(self._r, 1 << 20)
                if not chunk:
                    err = self.proc.stderr.read().decode(errors="replace")[-2000:] if self.proc.stderr else ""
                    raise RuntimeError(f"Chromium closed the debugging pipe during {method}: {err}")
                self._buf += chunk
            raw, self._buf = self._buf.split(b"\0", 1)
            reply = json.loads(raw)
            if reply.get("id") == self._id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply["result"]

    def evaluate(self, expression: str) -> Any:
        """Evaluate ``expression`` in the page (promises awaited) and return its JSON value."""
        res = self.send(
            "Runtime.evaluate",
            {"expression": expression, "awaitPromise": True, "returnByValue": True},
            session=self.session,
        )
        if "exceptionDetails" in res:
            raise RuntimeError(f"page exception: {res['exceptionDetails']}")
        return res["result"].get("value")

    def open(self, url: str) -> None:
        self.send("Page.enable", session=self.session)
        self.send("Page.navigate", {"url": url}, session=self.session)

    def close(self) -> None:
        try:
            self.send("Browser.close")
        except Exception:  # the browser may already be gone
            pass
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        for fd in (self._r, self._w):
            try:
                os.close(fd)
            except OSError:
                pass
        shutil.rmtree(self.profile, ignore_errors=True)


WAIT_FOR_APP = """new Promise(resolve => {
  const t0 = Date.now();
  (function poll() {
    const app = document.querySelector('#app');
    if (document.readyState === 'complete' && typeof results !== 'undefined' && app && app.children.length > 0)
      resolve(true);
    else if (Date.now() - t0 > 30000) resolve(false);
    else setTimeout(poll, 100);
  })();
})"""

# every image result decoded by the page itself, as the app's <img> would: naturalWidth/Height, -1 on error
DECODE_IMAGES = """(async () => {
  const out = {};
  for (const [path, entry] of Object.entries(results)) {
    if (!entry.mime_type.startsWith('image/')) continue;
    const img = new Image();
    const size = new Promise(r => { img.onload = () => r([img.naturalWidth, img.naturalHeight]);
                                    img.onerror = () => r([-1, -1]); });
    img.src = entry.data_uri;
    document.body.appendChild(img);
    out[path] = await size;
  }
  return out;
})()"""


# every image result shown by the app itself (the view its "eye" button opens): the <img> it renders, once complete
SHOW_IN_APP = """(async () => {
  const out = {};
  for (const [path, entry] of Object.entries(results)) {
    if (!entry.mime_type.startsWith('image/')) continue;
    app.setView({content: 'img', contentPath: entry.data_uri, resultPath: path});
    const t0 = Date.now();
    let size = [0, 0];
    while (Date.now() - t0 < 10000) {
      const img = [...document.querySelectorAll('#app img')].find(i => i.src === entry.data_uri);
      if (img && img.complete) { size = [img.naturalWidth, img.naturalHeight]; break; }
      await new Promise(r => setTimeout(r, 50));
    }
    out[path] = size;
  }
  return out;
})()"""


# what a reader sees without scrolling: the text of every text node and every <img> inside the viewport
FIRST_SCREEN = """(() => {
  const inView = r => r.width > 0 && r.height > 0 && r.bottom > 0 && r.right > 0 &&
                      r.top < innerHeight && r.left < innerWidth;
  const texts = [];
  const walker = document.createTreeWalker(document.querySelector('#app'), NodeFilter.SHOW_TEXT);
  const range = document.createRange();
  while (walker.nextNode()) {
    const node = walker.currentNode;
    if (!node.textContent.trim()) continue;
    range.selectNodeContents(node);
    if (inView(range.getBoundingClientRect())) texts.push(node.textContent.trim());
  }
  const images = [...document.querySelectorAll('#app img')]
    .filter(i => inView(i.getBoundingClientRect()))
    .map(i => ({alt: i.alt, width: i.naturalWidth, shown: Math.round(i.getBoundingClientRect().width)}));
  return {text: texts.join(' '), images: images, width: innerWidth, height: innerHeight};
})()"""

SCREEN = {"width": 1400, "height": 900, "deviceScaleFactor": 1, "mobile": False}
STATUS_WORDS = {"pass": "pass", "fail": "fail", "not_applicable": "not applicable", "error": "error"}


def png_size(path: Path) -> tuple[int, int]:
    """(width, height) from a PNG's IHDR chunk."""
    head = path.read_bytes()[:24]
    assert head[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"
    return int.from_bytes(head[16:20], "big"), int.from_bytes(head[20:24], "big")


@pytest.fixture(scope="module")
def chromium() -> str:
    binary = find_chromium()
    if binary is None:
        pytest.skip(
            "Chromium not found (install Debian's `chromium` or set $CHROMIUM); the report browser test "
            "needs a headless browser"
        )
    return binary


@pytest.fixture(scope="module")
def report(smoke_run: Path) -> Path:
    """``snakemake --report`` on the shared smoke run."""
    out = smoke_run / "results" / "report.html"
    snakemake(smoke_run, "--report", str(out))
    assert out.is_file() and out.stat().st_size > 0
    return out


@pytest.fixture(scope="module")
def page(chromium: str, report: Path):
    browser = Browser(chromium)
    try:
        browser.open(report.resolve().as_uri())
        assert browser.evaluate(WAIT_FOR_APP), "the report's React app did not render within 30 s"
        yield browser
    finally:
        browser.close()


def _figure_files(run: Path) -> set[str]:
    """Every PNG the smoke run wrote under results/ (figures of every stage), relative to the work dir."""
    return {str(p.relative_to(run)) for p in (run / "results").rglob("*.png")}


def test_every_figure_loads(page: Browser, smoke_run: Path) -> None:
    sizes = page.evaluate(DECODE_IMAGES)
    assert sizes, "the report holds no image results"
    broken = {k: v for k, v in sizes.items() if v[0] <= 0 or v[1] <= 0}
    assert not broken, f"figures that do not decode in Chromium: {broken}"
    missing = _figure_files(smoke_run) - set(sizes)
    assert not missing, f"PNG figures written by the run but absent from the report: {sorted(missing)}"


def test_app_displays_every_figure(page: Browser, smoke_run: Path) -> None:
    """Each figure opened in the app's own view renders an <img> at the PNG's true pixel size."""
    shown = page.evaluate(SHOW_IN_APP)
    assert shown
    for path, size in shown.items():
        expected = png_size(smoke_run / path) if path.endswith(".png") else None
        assert size[0] > 0 and size[1] > 0, f"{path} did not load in the report view"
        if expected:
            assert tuple(size) == expected, f"{path}: shown at {size}, file is {expected}"


def test_report_shows_categories_and_front_page(page: Browser) -> None:
    cats = page.evaluate("Object.keys(categories)")
    text = page.evaluate("document.querySelector('#app').innerText")
    for cat in cats:
        assert cat in text, f"category {cat!r} not shown in the report's menu"
    for expected in ("Sweeps", "Reproduction criteria", "Tables"):
        assert expected in cats
    front = page.evaluate("workflow_desc")  # the rendered front page (workflow/report/workflow.rst)
    assert "What this scale can and cannot show" in front
    assert "presets/paper.yaml" in front
    assert "{{" not in front, "unrendered template expression on the front page"


def test_our_figures_have_captions(page: Browser) -> None:
    entries = page.evaluate("Object.fromEntries(Object.entries(results).map(([k, v]) => [k, v.caption]))")
    ours = {k: v for k, v in entries.items() if Path(k).name.startswith(("sweeps_", "criteria")) or "/tables/" in k}
    assert len(ours) >= 5 + 2
    for path, caption in ours.items():
        assert caption and len(caption) > 80, f"{path} has no caption"
        assert "System Message" not in caption, f"{path}: its caption has a reStructuredText error"


def test_no_rst_errors_anywhere(page: Browser) -> None:
    """Every caption and the front page render without reStructuredText errors ("System Message" boxes)."""
    bad = page.evaluate(
        "Object.entries(results).filter(([k, v]) => v.caption.includes('System Message')).map(([k, v]) => k)"
    )
    assert not bad, f"captions with reStructuredText errors: {bad}"
    assert "System Message" not in page.evaluate("workflow_desc")


def _claim_counts(run: Path) -> dict[str, int]:
    """The counts by status over every claims table of the run (criteria, synthetic and SAE claims)."""
    files = [*run.glob("results/*/metrics/*/criteria.json"), *run.glob("results/**/claims.json")]
    total = dict.fromkeys(STATUS_WORDS, 0)
    for path in files:
        for status, n in json.loads(path.read_text())["summary"].items():
            total[status] += n
    return total


def test_first_screen_shows_the_verdict(page: Browser, report: Path, smoke_run: Path, tmp_path: Path) -> None:
    """Opened at 1400 × 900, the report's first screen says what the run found: the claim counts by status (as the
    run's claims tables give them) and the criteria dashboard, before any scrolling. A screenshot of it is written
    to $BOWS_SCREENSHOT_DIR (or the test's temporary folder)."""
    page.send("Emulation.setDeviceMetricsOverride", SCREEN, session=page.session)
    page.open(report.resolve().as_uri())  # afresh: the tests before have opened other views and added images
    assert page.evaluate(WAIT_FOR_APP), "the report's React app did not render within 30 s"
    page.evaluate("new Promise(r => setTimeout(r, 500))")
    screen = page.evaluate(FIRST_SCREEN)
    assert (screen["width"], screen["height"]) == (1400, 900)
    text = " ".join(screen["text"].split())
    assert "What this run found" in text, text[:600]
    counts = _claim_counts(smoke_run)
    assert sum(counts.values()) > 17  # the 17 criteria and the synthetic and SAE claims
    shown = " ".join(f"{counts[s]} {word}" for s, word in STATUS_WORDS.items())
    assert shown in text, f"verdict {shown!r} not on the first screen: {text[:600]}"
    dashboard = [i for i in screen["images"] if i["alt"] == "reproduction criteria dashboard"]
    assert dashboard and dashboard[0]["width"] > 0 and dashboard[0]["shown"] >= 600, screen["images"]
    shot = page.send("Page.captureScreenshot", {"format": "png"}, session=page.session)
    out = Path(os.environ.get("BOWS_SCREENSHOT_DIR") or tmp_path) / "report_first_screen.png"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(base64.b64decode(shot["data"]))
    assert png_size(out) == (1400, 900)
