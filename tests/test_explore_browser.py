"""The saved explorer page in a real browser: headless Chromium driven by Selenium.

The system's ``chromium`` and ``chromedriver`` (Debian packages ``chromium`` and
``chromium-driver``, installed by ``./dev.sh test``) are used; nothing is downloaded. Without
them these tests fail under CI and are skipped, with the reason, elsewhere.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from examples import lecture

from micrograd_x import explore

pytest.importorskip("graphviz")
selenium = pytest.importorskip("selenium", reason="browser tests need the test extra")

from selenium import webdriver  # noqa: E402
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402


def _browser() -> tuple[str, str]:
    chromium, driver = shutil.which("chromium"), shutil.which("chromedriver")
    if chromium is None or driver is None:
        why = (
            "headless Chromium is missing: install the Debian packages chromium and "
            "chromium-driver (./dev.sh test does)"
        )
        if os.environ.get("CI"):
            pytest.fail(why)
        pytest.skip(why)
    return chromium, driver


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    chromium, driver = _browser()
    profile = tempfile.mkdtemp(prefix="mgx-chromium-")
    opts = webdriver.ChromeOptions()
    opts.binary_location = chromium
    for arg in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--no-first-run",
        "--window-size=1200,900",
        f"--user-data-dir={profile}",
    ):
        opts.add_argument(arg)
    opts.set_capability("goog:loggingPrefs", {"performance": "ALL", "browser": "ALL"})
    d = webdriver.Chrome(service=Service(driver), options=opts)
    try:
        yield d
    finally:
        d.quit()
        shutil.rmtree(profile, ignore_errors=True)


@pytest.fixture(scope="module")
def page(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    ex = explore(lecture, a=2.0, b=-3.0, c=10.0, f=-2.0)
    path = ex.save(tmp_path_factory.mktemp("page") / "chain.html")
    return path, {n.name: n.id for n in ex.graph.nodes}


def _open(d: Any, path: Path) -> None:
    d.get_log("performance")  # drop earlier entries
    d.get(path.as_uri())
    WebDriverWait(d, 10).until(
        lambda drv: drv.find_element(By.ID, "mgx").get_attribute("data-ready") == "true"
    )


def _press(d: Any, action: str, times: int = 1) -> None:
    button = d.find_element(By.CSS_SELECTOR, f'button[data-action="{action}"]')
    for _ in range(times):
        button.click()


def _grads(d: Any) -> dict[str, str]:
    """Node id -> the gradient text the page shows."""
    out = {}
    for g in d.find_elements(By.CSS_SELECTOR, "g[data-node]"):
        out[g.get_attribute("data-node")] = g.find_element(By.CSS_SELECTOR, "[data-grad]").text
    return out


def _by_name(grads: dict[str, str], ids: dict[str, str]) -> dict[str, str]:
    return {name: grads[i] for name, i in ids.items()}


def _requests(d: Any) -> list[str]:
    """The URLs of every request the page made (from Chrome's DevTools network events)."""
    urls = []
    for entry in d.get_log("performance"):
        msg = json.loads(entry["message"])["message"]
        if msg["method"] == "Network.requestWillBeSent":
            urls.append(msg["params"]["request"]["url"])
    return urls


def test_next_fills_in_the_gradients_from_the_output_back(browser: Any, page: Any) -> None:
    path, ids = page
    _open(browser, path)
    q = "grad ?"
    assert set(_grads(browser).values()) == {q}
    assert "step 0 of 4" in browser.find_element(By.CSS_SELECTOR, '[data-role="counter"]').text
    _press(browser, "next")
    assert _by_name(_grads(browser), ids) == {
        "a": q, "b": q, "c": q, "e": q, "d": q, "f": q, "L": "grad 1",
    }  # fmt: skip
    _press(browser, "next", 2)
    assert _by_name(_grads(browser), ids) == {
        "a": q, "b": q, "c": "grad -2", "e": "grad -2", "d": "grad -2", "f": "grad 4",
        "L": "grad 1",
    }  # fmt: skip
    caption = browser.find_element(By.CSS_SELECTOR, '[data-role="caption"]').text
    assert "e.grad += -2 × 1 = -2" in caption and "c.grad += -2 × 1 = -2" in caption
    current = browser.find_element(By.CSS_SELECTOR, "g.mgx-current")
    assert current.get_attribute("data-node") == ids["d"]
    _press(browser, "next", 3)  # past the end: stays at the last step
    grads = _by_name(_grads(browser), ids)
    assert grads["a"] == "grad 6" and grads["b"] == "grad -4"
    assert browser.find_element(By.CSS_SELECTOR, '[data-action="next"]').get_attribute("disabled")
    _press(browser, "prev")
    assert _by_name(_grads(browser), ids)["a"] == q
    _press(browser, "reset")
    assert set(_grads(browser).values()) == {q}


def test_edges_thicken_as_the_gradient_flows(browser: Any, page: Any) -> None:
    path, _ = page
    _open(browser, path)

    def widths() -> list[float]:
        paths = browser.find_elements(By.CSS_SELECTOR, "g[data-edge] path")
        return [float(p.get_attribute("stroke-width") or 1) for p in paths]

    assert set(widths()) == {1.0}
    _press(browser, "next", 4)
    assert max(widths()) == 4.5 and len(set(widths())) > 2


def test_clicking_a_node_highlights_its_paths_and_shows_its_chain_rule(
    browser: Any, page: Any
) -> None:
    path, ids = page
    _open(browser, path)
    browser.find_element(By.CSS_SELECTOR, f'g[data-node="{ids["b"]}"]').click()
    lit = {
        g.get_attribute("data-node")
        for g in browser.find_elements(By.CSS_SELECTOR, "g[data-node].mgx-on")
    }
    assert lit == {ids[n] for n in ("b", "e", "d", "L")}
    dim = {
        g.get_attribute("data-node")
        for g in browser.find_elements(By.CSS_SELECTOR, "g[data-node].mgx-off")
    }
    assert dim == {ids[n] for n in ("a", "c", "f")}
    assert len(browser.find_elements(By.CSS_SELECTOR, "g[data-edge].mgx-on")) == 3
    selected = browser.find_element(By.CSS_SELECTOR, "g.mgx-selected")
    assert selected.get_attribute("data-node") == ids["b"]
    table = browser.find_element(By.CSS_SELECTOR, '[data-role="explain"]').text
    assert "∂L/∂b = ∂L/∂d · ∂d/∂e · ∂e/∂b = -2 × 1 × 2 = -4 ✓ equals b.grad" in table
    assert "L ← d ← e ← b" in table
    # Paths between a chosen input and the clicked node.
    browser.find_element(By.CSS_SELECTOR, f'g[data-node="{ids["d"]}"]').click()
    browser.find_element(
        By.CSS_SELECTOR, f'select[data-role="target"] option[value="{ids["a"]}"]'
    ).click()
    lit = {
        g.get_attribute("data-node")
        for g in browser.find_elements(By.CSS_SELECTOR, "g[data-node].mgx-on")
    }
    assert lit == {ids[n] for n in ("a", "e", "d")}
    table = browser.find_element(By.CSS_SELECTOR, '[data-role="explain"]').text
    assert "∂d/∂a = ∂d/∂e · ∂e/∂a = 1 × -3 = -3" in table
    # Clicking the selected box again clears the highlight.
    browser.find_element(By.CSS_SELECTOR, f'g[data-node="{ids["d"]}"]').click()
    assert not browser.find_elements(By.CSS_SELECTOR, "g.mgx-on, g.mgx-off")


def test_play_runs_the_backward_pass_to_the_end(browser: Any, page: Any) -> None:
    path, ids = page
    _open(browser, path)
    _press(browser, "play")
    WebDriverWait(browser, 10).until(
        lambda drv: "step 4 of 4" in drv.find_element(By.CSS_SELECTOR, '[data-role="counter"]').text
    )
    time.sleep(1.2)  # one more tick: play stops at the end instead of running on
    assert "step 4 of 4" in browser.find_element(By.CSS_SELECTOR, '[data-role="counter"]').text
    assert _by_name(_grads(browser), ids)["a"] == "grad 6"
    assert "play" in browser.find_element(By.CSS_SELECTOR, '[data-action="play"]').text


def test_the_page_makes_no_network_request_and_runs_without_errors(browser: Any, page: Any) -> None:
    path, ids = page
    _open(browser, path)
    _press(browser, "next", 4)
    browser.find_element(By.CSS_SELECTOR, f'g[data-node="{ids["a"]}"]').click()
    assert _requests(browser) == [path.as_uri()]  # the page itself, nothing else
    entries = browser.execute_script("return performance.getEntriesByType('resource').length")
    assert entries == 0
    errors = [e for e in browser.get_log("browser") if e["level"] == "SEVERE"]
    assert errors == []


def test_the_network_check_sees_a_request_when_there_is_one(browser: Any, tmp_path: Path) -> None:
    # The detector above is real: a page that loads an image is caught (nothing listens on
    # port 9, so the request fails, but it is made).
    control = tmp_path / "control.html"
    control.write_text(
        '<!DOCTYPE html><html><body><div id="mgx" data-ready="true"></div>'
        '<img src="http://127.0.0.1:9/x.png"></body></html>',
        encoding="utf-8",
    )
    _open(browser, control)
    time.sleep(0.3)
    assert "http://127.0.0.1:9/x.png" in _requests(browser)


def test_a_drawing_saved_as_html_shows_its_svg_offline(browser: Any, tmp_path: Path) -> None:
    # draw(...).save("x.html"): the static picture as one self-contained page.
    from micrograd_x import Value, draw

    a, b = Value(2.0, label="a<b>"), Value(-3.0, label="b")
    out = (a * b).tanh()
    out.label = "out"
    out.backward()
    path = draw(out, wrt=a).save(tmp_path / "drawing.html")
    browser.get_log("performance")  # drop what earlier pages logged
    browser.get_log("browser")
    browser.get(path.as_uri())
    WebDriverWait(browser, 10).until(
        lambda d: len(d.find_elements(By.CSS_SELECTOR, "svg g.node")) == 4
    )
    svg = browser.find_element(By.CSS_SELECTOR, "svg")
    assert svg.size["width"] > 200 and svg.size["height"] > 200  # laid out, not a broken image
    assert "a<b>" in browser.find_element(By.CSS_SELECTOR, "svg").text  # escaped, drawn as written
    assert browser.title.startswith("∂out/∂")
    # The browser's own start page (chrome://) may still be logged when this test runs first.
    assert [u for u in _requests(browser) if not u.startswith("chrome:")] == [path.as_uri()]
    assert [e for e in browser.get_log("browser") if e["level"] == "SEVERE"] == []
