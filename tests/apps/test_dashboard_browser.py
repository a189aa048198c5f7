"""apps/dashboard in a real browser (Playwright driving Debian's Chromium, tests/browser.py)
against real ``streamlit run`` servers on localhost: the overview's Table 1, the failure page
regenerating a missing SynthRef folder, and "Inspect sample" after a variant switch."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from browser import chromium_available, free_port, screenshot, stop, wait_for_http
from dumps_fixture import make_dump_tree
from test_dashboard import _synth_dump

REPO = Path(__file__).resolve().parents[2]
APP = str(REPO / "apps" / "dashboard" / "app.py")


@pytest.fixture(scope="module")
def root(tmp_path_factory):
    return make_dump_tree(tmp_path_factory.mktemp("dash") / "dumps")


@pytest.mark.browser
@pytest.mark.skipif(not chromium_available(), reason="needs /usr/bin/chromium and playwright")
def test_dashboard_in_a_real_browser(root):
    port = free_port()
    env = {**os.environ, "STREAMLIT_BROWSER_GATHER_USAGE_STATS": "false"}
    cmd = [sys.executable, "-m", "streamlit", "run", APP, "--server.headless", "true"]
    cmd += ["--server.port", str(port), "--server.address", "127.0.0.1"]
    cmd += ["--", "--dumps", str(root)]
    proc = subprocess.Popen(
        cmd, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    try:
        url = f"http://127.0.0.1:{port}"
        wait_for_http(f"{url}/_stcore/health", timeout_s=120, proc=proc)
        shot = REPO / "test-artifacts" / "dashboard.png"
        text = screenshot(url, shot, wait_text="45.95", timeout_s=120)
        assert "Table 1 — handmade / val" in text and "70.59" in text
        assert shot.stat().st_size > 10_000
    finally:
        stop(proc)
        if proc.stdout:
            proc.stdout.close()


def _serve(dumps: Path, page: str | None = None):
    """``streamlit run apps/dashboard/app.py -- --dumps DUMPS [--page PAGE]`` on a free port:
    (process, url), once it answers its health check."""
    port = free_port()
    env = {**os.environ, "STREAMLIT_BROWSER_GATHER_USAGE_STATS": "false"}
    cmd = [sys.executable, "-m", "streamlit", "run", APP, "--server.headless", "true"]
    cmd += ["--server.port", str(port), "--server.address", "127.0.0.1"]
    cmd += ["--", "--dumps", str(dumps), *(["--page", page] if page else [])]
    proc = subprocess.Popen(
        cmd, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for_http(f"{url}/_stcore/health", timeout_s=120, proc=proc)
    except Exception:
        _stop(proc)
        raise
    return proc, url


def _stop(proc) -> None:
    stop(proc)
    if proc.stdout:
        proc.stdout.close()


def _browser_page(pw, url: str):
    from browser import CHROMIUM, CHROMIUM_ARGS
    from playwright.sync_api import expect

    browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
    page = browser.new_page(viewport={"width": 1400, "height": 1400})
    page.set_default_timeout(120_000)
    # expect() waits 5 s by default whatever the page's timeout, and the regeneration the
    # failure page runs was seen at "0 / 6 expressions, 5 s" on an fp32-only CPU under CI's load
    expect.set_options(timeout=120_000)
    page.goto(url, wait_until="domcontentloaded")
    return browser, page


def _settled(page) -> None:
    """Wait until the script run that the last interaction started has finished."""
    page.wait_for_timeout(300)
    page.wait_for_function(
        "document.querySelector('[data-testid=stApp]')"
        ".getAttribute('data-test-script-state') === 'notRunning'"
    )


@pytest.mark.browser
@pytest.mark.skipif(not chromium_available(), reason="needs /usr/bin/chromium and playwright")
def test_failure_page_regenerates_missing_synthref_in_a_real_browser(tmp_path):
    """A fresh clone: dumps of a SynthRef whose folder is not there. The page says so once
    with the command, regenerates it from the recorded seed on a click, then shows the
    images, the failure modes, and no note."""
    from playwright.sync_api import expect, sync_playwright

    from tvnet.data.refer import open_refer
    from tvnet.data.synthref import generate

    data = tmp_path / "data" / "synthref"
    recipe = {"seed": 5, "sizes": {"train": 0, "val": 6, "test": 0}}
    generate(data, seed=5, train=0, val=6, test=0, workers=1, progress=False)
    refer, original = open_refer(data), (data / "instances.json").read_bytes()
    for variant, preds in (("full", lambda s, gt: gt if s.sample_id % 2 else 0 * gt),
                           ("baseline", lambda s, gt: 0 * gt)):  # fmt: skip
        _synth_dump(tmp_path / "dumps" / variant, refer, data, variant, preds, recipe)
    shutil.rmtree(tmp_path / "data")  # the dumps are shipped, the data is not
    proc, url = _serve(tmp_path / "dumps", "Failure cases")
    try:
        with sync_playwright() as pw:
            browser, page = _browser_page(pw, url)
            try:
                note = page.get_by_text("The images are not here")
                expect(page.get_by_text("No image (the dataset folder is missing")).to_be_visible()
                _settled(page)
                expect(note).to_have_count(1)
                body = page.locator("body").inner_text()
                assert f"tvnet synth {data} --seed 5 --train 0 --val 6 --test 0" in body
                page.get_by_role("button", name="Regenerate SynthRef (6 expressions)").click()
                expect(page.get_by_text("it holds the dumps' expressions")).to_be_visible()
                expect(note).to_have_count(0)
                expect(page.get_by_text("Failure modes (% of samples)")).to_be_visible()
                _settled(page)
                body = page.locator("body").inner_text()
                assert "No image" not in body and "Image not available" not in body
                images = page.locator('[data-testid="stMain"] [data-testid="stImage"] img')
                expect(images).to_have_count(3)  # ground truth, prediction, difference
                shot = REPO / "test-artifacts" / "dashboard-regenerated.png"
                shot.parent.mkdir(exist_ok=True)
                page.screenshot(path=str(shot), full_page=True)
            finally:
                browser.close()
    finally:
        _stop(proc)
    assert (data / "instances.json").read_bytes() == original  # the same seed, the same bytes


@pytest.mark.browser
@pytest.mark.skipif(not chromium_available(), reason="needs /usr/bin/chromium and playwright")
def test_inspect_sample_names_the_sample_shown_after_a_variant_switch(root):
    """ "Inspect sample" and the detail under it name one sample, before and after the
    variant changes (the label used to stay on the old list's sample)."""
    from playwright.sync_api import sync_playwright

    def choose(page, label: str, option: str) -> None:
        page.get_by_role("combobox", name=label, exact=True).click()
        page.get_by_role("option").filter(has_text=option).first.click()
        _settled(page)

    def shown(page) -> tuple[str, str]:
        label = page.get_by_role("combobox", name="Inspect sample", exact=True).input_value()
        detail = page.get_by_test_id("stMarkdown").filter(has_text="referent (").first
        return label, detail.inner_text()

    def same_sample(label: str, detail: str) -> bool:
        # label "IoU 0.000 · val #1 · the blue square…"; detail "“the blue square…” — val #1, IoU 0.000 …"
        iou, where, sentence = label.split(" · ", 2)
        return detail.startswith(f"“{sentence}” — {where}, {iou} ")

    proc, url = _serve(root, "Failure cases")
    try:
        with sync_playwright() as pw:
            browser, page = _browser_page(pw, url)
            try:
                page.get_by_role("combobox", name="Inspect sample", exact=True).wait_for()
                _settled(page)
                seen = [shown(page)]
                choose(page, "Variant", "full")
                seen.append(shown(page))
                choose(page, "Inspect sample", "val #3")
                seen.append(shown(page))
                choose(page, "Variant", "baseline")
                seen.append(shown(page))
            finally:
                browser.close()
    finally:
        _stop(proc)
    assert all(same_sample(label, detail) for label, detail in seen), seen
    # baseline's worst first (val #0), then full's worst (val #1), the pick (val #3), baseline
    assert [label.split(" · ")[1] for label, _ in seen] == ["val #0", "val #1", "val #3", "val #0"]
