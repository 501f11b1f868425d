"""The interactive explorer, seen by a browser: the smoke run's page opened in headless Chromium from ``file://``
with the network off. The UMAP's points are drawn (ink on its canvas, gone when the points are hidden), hovering a
word's point shows a tooltip with that word, its group and its neighbours (read from the page's DOM), hovering a
month of the ring shows its cosines, and choosing another group redraws the Gram heatmap. Also: no external
resource in the file, nothing fetched, and the size budget."""

from __future__ import annotations

import time
from html.parser import HTMLParser
from pathlib import Path

import pytest
from test_report_browser import Browser, find_chromium

pytestmark = [pytest.mark.workflow, pytest.mark.browser]

MAX_BYTES = 5_000_000  # per model at the default scale (docs/dynamics.md)

# the view of a named plot (Bokeh's own view tree), and helpers the checks below share
VIEWS = """
window.bowsView = (name) => {
  const model = Bokeh.documents[0].get_model_by_name(name);
  function* all(v) { yield v; for (const c of (v.child_views || [])) yield* all(c); }
  for (const root of Bokeh.index.roots) for (const v of all(root)) if (v.model === model) return v;
  return null;
};
window.bowsInk = (name) => {  // coloured pixels inside the plot's frame
  const v = bowsView(name), c = v.canvas_view.primary.canvas, f = v.frame.bbox;
  const s = c.width / v.canvas_view.bbox.width;
  const px = c.getContext('2d').getImageData(s * (f.x0 + 2), s * (f.y0 + 2), s * (f.width - 4), s * (f.height - 4));
  let ink = 0;
  for (let k = 0; k < px.data.length; k += 4)
    if (px.data[k + 3] > 0 && (px.data[k] < 235 || px.data[k + 1] < 235 || px.data[k + 2] < 235)) ink++;
  return ink;
};
window.bowsPoint = (plot, source, word) => {
  const v = bowsView(plot), src = Bokeh.documents[0].get_model_by_name(source);
  const i = src.data.word.indexOf(word);
  const r = v.canvas_view.el.getBoundingClientRect();
  return {i, x: r.left + v.frame.x_scale.compute(src.data.x[i]), y: r.top + v.frame.y_scale.compute(src.data.y[i])};
};
window.bowsTooltips = () => {
  const out = [];
  (function walk(n) {
    if (n.shadowRoot) walk(n.shadowRoot);
    for (const c of n.children || []) walk(c);
    if (n.classList && n.classList.contains('bk-tooltip-content')) out.push(n.innerText);
  })(document.body);
  return out;
};
true
"""

WAIT = """new Promise(resolve => {
  const t0 = Date.now();
  (function poll() {
    const ready = typeof Bokeh !== 'undefined' && Bokeh.documents.length && [...Bokeh.index.roots].length;
    if (ready && document.readyState === 'complete') resolve(true);
    else if (Date.now() - t0 > 30000) resolve(false);
    else setTimeout(poll, 100);
  })();
})"""


@pytest.fixture(scope="module")
def page(smoke_run: Path) -> Path:
    pages = sorted((smoke_run / "results" / "smoke" / "explorer").rglob("*.html"))
    assert [p.relative_to(p.parents[1]).as_posix() for p in pages] == [
        "relu/L16_wd1.0_seed1.html",
        "relu/L16_wd4.0_seed1.html",
    ]  # the smoke preset's months, mechanism and umap models
    return pages[-1]


@pytest.fixture(scope="module")
def browser(page: Path):
    binary = find_chromium()
    if binary is None:
        pytest.skip("Chromium not found (install Debian's `chromium` or set $CHROMIUM)")
    b = Browser(binary)
    b.send("Emulation.setDeviceMetricsOverride", {"width": 1280, "height": 2000, "deviceScaleFactor": 1,
                                                  "mobile": False}, session=b.session)  # fmt: skip
    b.send("Network.enable", session=b.session)
    offline = {"offline": True, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1}
    b.send("Network.emulateNetworkConditions", offline, session=b.session)
    b.open(page.as_uri())
    assert b.evaluate(WAIT), "the explorer did not render within 30 s"
    b.evaluate(VIEWS)
    yield b
    b.close()


class Resources(HTMLParser):
    """Every URL the page's own tags load (script src, link href, img src, iframe src)."""

    def __init__(self):
        super().__init__()
        self.urls: list[str] = []
        self.inline_scripts = 0

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        for key in ("src", "href"):
            if tag in ("script", "link", "img", "iframe") and a.get(key):
                self.urls.append(a[key])
        if tag == "script" and not a.get("src"):
            self.inline_scripts += 1


def test_page_is_self_contained_and_within_budget(page: Path):
    parser = Resources()
    parser.feed(page.read_text(encoding="utf-8"))
    assert parser.urls == [] and parser.inline_scripts >= 2  # the library and the document, both inline
    bad = Resources()
    bad.feed('<script src="https://cdn.example/bokeh.js"></script>')
    assert bad.urls  # the check sees an external script
    assert page.stat().st_size <= MAX_BYTES


def test_nothing_is_fetched_and_the_points_are_drawn(browser):
    assert browser.evaluate("performance.getEntriesByType('resource').map(e => e.name)") == []
    n = browser.evaluate("Bokeh.documents[0].get_model_by_name('umap_source').data.word.length")
    assert n == 400  # every word of the smoke vocabulary
    drawn = browser.evaluate("bowsInk('umap')")
    hidden = browser.evaluate(
        """new Promise(r => { const points = Bokeh.documents[0].get_model_by_name('umap_points');
        points.visible = false;
        setTimeout(() => { const ink = bowsInk('umap'); points.visible = true; setTimeout(() => r(ink), 300); },
        300); })"""
    )
    assert drawn > 2000 and hidden < drawn / 10, (drawn, hidden)  # the ink is the points'


def _hover(browser, plot: str, source: str, word: str) -> str:
    p = browser.evaluate(f"bowsPoint('{plot}', '{source}', '{word}')")
    assert p["i"] >= 0, f"{word} not in {source}"
    browser.send("Input.dispatchMouseEvent", {"type": "mouseMoved", "x": 5, "y": 5}, session=browser.session)
    browser.send("Input.dispatchMouseEvent", {"type": "mouseMoved", "x": p["x"], "y": p["y"]}, session=browser.session)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        tips = browser.evaluate("bowsTooltips()")
        if tips:
            return "\n".join(tips)
        time.sleep(0.1)
    return ""


def test_hovering_a_word_shows_its_word_group_and_neighbours(browser):
    text = _hover(browser, "umap", "umap_source", "January")
    assert "word:\tJanuary" in text and "group:\tMonths" in text, text
    assert "frequency rank:" in text and "nearest 8 (cosine):" in text
    other = _hover(browser, "umap", "umap_source", "Monday")
    assert "word:\tMonday" in other and "January" not in other.split("\n")[0]


def test_hovering_a_ring_month_shows_its_cosines(browser):
    text = _hover(browser, "ring_Months", "ring_source_Months", "March")
    assert "word:\tMarch" in text, text
    assert "cosine to previous:\tFebruary " in text and "cosine to next:\tApril " in text, text


def test_choosing_a_group_redraws_the_gram_heatmap(browser):
    factors = browser.evaluate(
        """new Promise(r => { const s = Bokeh.documents[0].get_model_by_name('gram_select'); s.value = 'Days';
        setTimeout(() => r(bowsView('gram').model.x_range.factors), 300); })"""
    )
    assert factors[:2] == ["Monday", "Tuesday"] and len(factors) == 7
    assert browser.evaluate("bowsInk('gram')") > 1000
