"""Browser fixtures: Debian's chromium, headless, driven by its own chromedriver."""

from __future__ import annotations

import shutil
from collections.abc import Iterator

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.remote.webdriver import WebDriver

WINDOW = (1280, 900)


@pytest.fixture(scope="session")
def chrome() -> Iterator[WebDriver]:
    """One headless chromium for the session; fails, never skips, when it is not installed."""
    paths = {name: shutil.which(name) for name in ("chromium", "chromedriver")}
    missing = [name for name, path in paths.items() if path is None]
    if missing:
        pytest.fail(
            f"{' and '.join(missing)} not found on PATH: run `make browser` "
            "(it installs Debian's chromium and chromium-driver)",
            pytrace=False,
        )
    options = webdriver.ChromeOptions()
    options.binary_location = paths["chromium"]
    for argument in (
        "--headless=new",
        "--no-sandbox",  # containers and root have no user namespaces for the sandbox
        "--disable-dev-shm-usage",  # a small /dev/shm crashes tabs
        f"--window-size={WINDOW[0]},{WINDOW[1]}",
    ):
        options.add_argument(argument)
    # Given a driver path, Selenium Manager is skipped; offline, it could not download anyway.
    with pytest.MonkeyPatch.context() as env:
        env.setenv("SE_OFFLINE", "true")
        driver = webdriver.Chrome(
            service=Service(executable_path=paths["chromedriver"]), options=options
        )
        try:
            yield driver
        finally:
            driver.quit()


@pytest.fixture
def browser(chrome: WebDriver) -> Iterator[WebDriver]:
    """The session's chromium on a blank page with no cookies, left that way for the next test.

    Cookies ignore the port, so one test's sign-in would otherwise reach the next test's server.
    """
    _reset(chrome)
    try:
        yield chrome
    finally:
        _reset(chrome)


def _reset(driver: WebDriver) -> None:
    driver.get("about:blank")
    driver.execute_cdp_cmd("Network.clearBrowserCookies", {})
