"""The admin web page in a real browser (headless Chromium driven by selenium), against a real
`cwauth serve` and a real Mosquitto with the plugin. The administrator signs in, unlocks the Client
Registry, watches an unknown MQTT device appear without reloading, allows it, gives it a role under
Users, and the device's publish then reaches a subscriber. Screenshots of each step go to artifacts/web/
(set CWAUTH_UPDATE_DOCS=1 to also refresh docs/registry.png)."""
import json
import os
import re
import shutil
import time

import pytest
from selenium import webdriver
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import Select, WebDriverWait

from conftest import ADMIN, ARTIFACTS, ROOT
from mqtt_client import Client, connect_result

SHOTS = ARTIFACTS / "web"
MONITOR = ("monitor", "monitor-pw-1")
DEVICE = ("web-device-1", "device-pw-1")
IMPOSTOR_NAME = "web-device-2"
WAIT = 15  # seconds any UI change may take; the page polls every 1.5 s
PHONE = {"width": 390, "height": 844, "deviceScaleFactor": 1, "mobile": True}


# ---------------------------------------------------------------- fixtures

@pytest.fixture
def site(cli):
    """A role that lets devices publish under their own name, and a monitor that reads what they send."""
    cli("role", "add", "sensor")
    cli("role", "grant", "sensor", "sensors/%u/#", "--op", "write")
    cli("role", "add", "watcher")
    cli("role", "grant", "watcher", "sensors/#", "--op", "read")
    cli("user", "add", MONITOR[0], "--password", MONITOR[1], "--role", "watcher")
    return cli


def chromium_paths():
    browser = os.environ.get("CHROMIUM_BIN") or shutil.which("chromium") or shutil.which("chromium-browser")
    driver = os.environ.get("CHROMEDRIVER") or shutil.which("chromedriver")
    assert browser and driver, "chromium and chromium-driver are missing: run scripts/install-deps.sh"
    return browser, driver


@pytest.fixture
def browser(request):
    binary, driver_path = chromium_paths()
    options = webdriver.ChromeOptions()
    options.binary_location = binary
    for arg in ("--headless=new", "--window-size=1280,900", "--disable-dev-shm-usage", "--disable-gpu",
                "--no-first-run", "--disable-extensions", "--lang=en-US"):
        options.add_argument(arg)
    if os.geteuid() == 0:
        options.add_argument("--no-sandbox")  # Chromium refuses to run as root with its sandbox
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=webdriver.ChromeService(executable_path=driver_path), options=options)
    driver.set_page_load_timeout(30)
    yield driver
    if getattr(request.node, "rep_call", None) is not None and request.node.rep_call.failed:
        SHOTS.mkdir(parents=True, exist_ok=True)
        try:
            driver.save_screenshot(str(SHOTS / f"{request.node.name}-FAILED.png"))
            console = "\n".join(str(entry) for entry in driver.get_log("browser"))
            (SHOTS / f"{request.node.name}-console.log").write_text(console)
        except WebDriverException:
            pass
    driver.quit()


# ---------------------------------------------------------------- helpers

class Page:
    """The browser plus the waits and screenshots every test needs."""

    def __init__(self, driver, base, prefix):
        self.d = driver
        self.base = base
        self.prefix = prefix
        self.count = 0

    def wait(self, condition, timeout=WAIT, message=""):
        return WebDriverWait(self.d, timeout, poll_frequency=0.1).until(condition, message)

    def find(self, css):
        return self.d.find_element(By.CSS_SELECTOR, css)

    def visible(self, css, timeout=WAIT):
        return self.wait(EC.visibility_of_element_located((By.CSS_SELECTOR, css)), timeout, f"{css} not visible")

    def clickable(self, css, timeout=WAIT):
        return self.wait(EC.element_to_be_clickable((By.CSS_SELECTOR, css)), timeout, f"{css} not clickable")

    def text_in(self, css, text, timeout=WAIT):
        return self.wait(EC.text_to_be_present_in_element((By.CSS_SELECTOR, css), text), timeout,
                         f"{text!r} never appeared in {css}")

    def shot(self, name):
        SHOTS.mkdir(parents=True, exist_ok=True)
        self.count += 1
        path = SHOTS / f"{self.prefix}-{self.count:02d}-{name}.png"
        self.d.save_screenshot(str(path))
        return path

    def open(self, path):
        self.d.get(self.base + path)

    def login(self, username, password):
        self.visible("#login-username").clear()
        self.find("#login-username").send_keys(username)
        self.find("#login-password").clear()
        self.find("#login-password").send_keys(password)
        self.find("#login-submit").click()


def wait_for(predicate, timeout=5.0, step=0.1):
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(step)
    return predicate()


def row(name):
    return f'tr[data-username="{name}"]'


def cell(name, field):
    return f'{row(name)} td[data-field="{field}"]'


# ---------------------------------------------------------------- tests

def test_granting_access_in_the_browser(site, broker, serve, browser):
    page = Page(browser, serve.url, "flow")

    # Signing in: an unauthenticated visit to the registry lands on the login form, then comes back.
    page.open("/registry")
    page.wait(EC.url_contains("/login"), message="an anonymous visit must be sent to /login")
    page.shot("login")
    page.login(*ADMIN)
    page.wait(EC.url_contains("/registry"), message="after signing in the page goes back to /registry")
    page.text_in("#whoami", ADMIN[0])
    page.text_in("#registry-state", "Locked")
    page.shot("registry-locked")

    # Unlock: the countdown starts at the default 5 minutes and runs down; the store agrees.
    page.clickable("#registry-toggle").click()
    page.text_in("#registry-state", "Open")
    countdown = page.visible("#registry-countdown")
    assert re.fullmatch(r"0[45]:[0-5]\d", countdown.text), countdown.text
    first = countdown.text
    page.wait(lambda d: d.find_element(By.ID, "registry-countdown").text != first, 5,
              "the countdown must tick by itself")
    assert json.loads(site("registry", "status", "--json").stdout)["open"] is True
    assert page.find("#registry-toggle").get_attribute("aria-label") == "Lock the client registry now"
    page.shot("registry-unlocked")

    # A marker on the window proves the rows below arrive without a page reload.
    browser.execute_script("window.__sameDocument = 'yes'")

    # An unknown device tries to connect: refused, but recorded while the window is open.
    assert not connect_result(broker.port, *DEVICE, client_id="web-device-1-client")
    page.visible(row(DEVICE[0]))
    assert page.find(cell(DEVICE[0], "clientId")).text == "web-device-1-client"
    assert page.find(cell(DEVICE[0], "address")).text == "127.0.0.1"
    assert page.find(cell(DEVICE[0], "attempts")).text == "1"
    assert page.find(cell(DEVICE[0], "source")).text == "mqtt"

    # An impostor races a second device with two different passwords: highlighted as a conflict.
    assert not connect_result(broker.port, IMPOSTOR_NAME, "first-pw-1")
    time.sleep(0.6)  # past the plugin's per-username rate limit
    assert not connect_result(broker.port, IMPOSTOR_NAME, "other-pw-2")
    page.visible(f'{row(IMPOSTOR_NAME)}.conflict [data-testid="conflict-badge"]')
    assert page.find(f'{row(IMPOSTOR_NAME)} [data-testid="conflict-badge"]').text.lower() == "conflict"
    assert "conflict" not in page.find(row(DEVICE[0])).get_attribute("class")
    assert browser.execute_script("return window.__sameDocument") == "yes", "the page reloaded"
    assert page.find("#pending-count").text == "2"
    shot = page.shot("registry-pending")
    if os.environ.get("CWAUTH_UPDATE_DOCS"):
        shutil.copy(shot, ROOT / "docs" / "registry.png")

    # The conflicted request: Allow is refused until "force" is ticked; Deny removes it.
    page.find(f'{row(IMPOSTOR_NAME)} td[data-field="address"]').click()  # a click anywhere on the row
    page.visible("#pending-dialog")
    page.visible("#pending-conflict")
    page.find("#pending-allow").click()
    page.text_in("#pending-dialog-error", "conflict")
    page.shot("conflict-dialog")
    page.find("#pending-deny").click()
    page.wait(EC.invisibility_of_element_located((By.ID, "pending-dialog")))
    page.wait(EC.invisibility_of_element_located((By.CSS_SELECTOR, row(IMPOSTOR_NAME))))
    assert IMPOSTOR_NAME not in site("registry", "list", "--json").stdout

    # The real device, with the keyboard: Details opens the dialog, which lists every field.
    details = page.find(f'{row(DEVICE[0])} [data-testid="pending-details-button"]')
    details.send_keys(Keys.ENTER)
    dialog = page.visible("#pending-dialog")
    page.text_in("#pending-details", "web-device-1-client")
    for label in ("Client id", "Address", "First seen", "Last seen", "Attempts", "Source", "Requested roles"):
        assert label in dialog.text
    page.visible('#pending-role-list input[data-role="sensor"]')
    assert not page.find('#pending-role-list input[data-role="sensor"]').is_selected(), \
        "nothing was requested, so nothing is pre-selected"
    assert page.find("#pending-conflict").get_attribute("hidden") is not None
    page.shot("allow-dialog")
    page.find("#pending-allow").click()
    page.wait(EC.invisibility_of_element_located((By.ID, "pending-dialog")))
    page.text_in("#flash", "Allowed web-device-1")
    page.wait(EC.invisibility_of_element_located((By.CSS_SELECTOR, row(DEVICE[0]))))
    page.visible("#pending-empty")
    page.shot("allowed")

    # Users: the device is there, created by the registry, with no role yet.
    page.find("#nav-users").click()
    page.wait(EC.url_contains("/users"))
    page.visible(row(DEVICE[0]))
    assert page.find(f'{row(DEVICE[0])} td[data-field="origin"]').text == "registry"
    assert page.find(f'{row(DEVICE[0])} td[data-field="roles"]').text == "no roles"
    page.shot("users-new-device")

    # Assign the role from the row's picker.
    Select(page.find(f'{row(DEVICE[0])} [data-testid="user-role-select"]')).select_by_value("sensor")
    page.find(f'{row(DEVICE[0])} [data-testid="user-assign"]').click()
    page.visible(f'{row(DEVICE[0])} .chip[data-role="sensor"]')
    page.text_in("#flash", "Assigned sensor to web-device-1")
    assert '"sensor"' in site("user", "show", DEVICE[0], "--json").stdout
    page.shot("users-role-assigned")

    # The device reconnects with the credentials it registered with, and what it publishes arrives.
    monitor = Client(broker.port, *MONITOR)
    try:
        assert monitor.subscribe("sensors/#")
        delivered = False
        for attempt in range(10):  # the broker picks the new role up within about a second
            device = Client(broker.port, *DEVICE)
            try:
                payload = f"21.5 #{attempt}"
                device.publish(f"sensors/{DEVICE[0]}/temp", payload)
                delivered = monitor.expect(f"sensors/{DEVICE[0]}/temp", payload, timeout=1.0)
            finally:
                device.close()
            if delivered:
                break
        assert delivered, "the device's publish never reached the subscriber"
    finally:
        monitor.close()

    # Every step was audited under the admin's name.
    page.find("#nav-audit").click()
    page.visible('[data-testid="audit-row"]')
    entries = [[c.text for c in r.find_elements(By.TAG_NAME, "td")]
               for r in browser.find_elements(By.CSS_SELECTOR, '[data-testid="audit-row"]')]
    by_admin = {(action, target) for _, _, actor, action, target, _ in entries if ADMIN[0] in actor.split(":")}
    for action, target in (("allow", DEVICE[0]), ("deny", IMPOSTOR_NAME), ("assign", DEVICE[0]), ("unlock", "")):
        assert any(action in a and target in t for a, t in by_admin), f"no {action} {target} by {ADMIN[0]} in {entries}"
    page.shot("audit")

    # A second click on the lock closes the window at once.
    page.find("#nav-registry").click()
    page.text_in("#registry-state", "Open")
    page.clickable("#registry-toggle").click()
    page.text_in("#registry-state", "Locked")
    assert not page.find("#registry-countdown").is_displayed()
    assert json.loads(site("registry", "status", "--json").stdout)["open"] is False


def test_wrong_password_shows_an_error(serve, browser):
    page = Page(browser, serve.url, "login")
    page.open("/login")
    page.login(ADMIN[0], "not-the-password")
    error = page.visible("#login-error")
    assert "Wrong username or password" in error.text
    assert "/login" in browser.current_url
    assert page.find("#login-password").get_attribute("value") == "", "the wrong password is cleared"
    page.shot("wrong-password")
    page.login(*ADMIN)
    page.wait(EC.url_contains("/registry"))
    page.text_in("#whoami", ADMIN[0])

    # Signing out ends the session: the pages send you back to the form.
    page.clickable("#logout").click()
    page.wait(EC.url_contains("/login"))
    page.open("/users")
    page.wait(EC.url_contains("/login?next=%2Fusers"), message="a signed-out visit must go back to the form")


def test_usable_at_phone_width(cli, serve, browser):
    page = Page(browser, serve.url, "phone")
    # Desktop Chromium will not shrink its window below 500 px; emulate the phone's viewport instead.
    browser.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", PHONE)
    page.open("/login")
    page.login(*ADMIN)
    page.wait(EC.url_contains("/registry"))
    page.text_in("#registry-state", "Locked")
    width = browser.execute_script("return document.documentElement.clientWidth")
    assert width == PHONE["width"]

    for name in ("registry", "users", "roles", "audit"):
        link = page.find(f"#nav-{name}")
        assert link.is_displayed()
        box = link.rect
        assert box["x"] >= 0 and box["x"] + box["width"] <= width, f"nav link {name} is off screen: {box}"

    toggle = page.clickable("#registry-toggle")
    box = toggle.rect
    assert box["x"] >= 0 and box["x"] + box["width"] <= width
    toggle.click()
    page.text_in("#registry-state", "Open")
    page.shot("registry")
    # Locked elsewhere (here: the CLI), the page follows by itself, as it does when the window runs out.
    cli("registry", "lock")
    page.text_in("#registry-state", "Locked")

    filled = {"/registry": "#registry-toggle:not([disabled])", "/users": row(ADMIN[0]),
              "/roles": '[data-testid="role-card"][data-role="admin"]', "/audit": '[data-testid="audit-row"]'}
    for path, content in filled.items():
        page.open(path)
        page.visible(content)
        scroll = browser.execute_script("return document.documentElement.scrollWidth")
        assert scroll <= width, f"{path} scrolls sideways at phone width ({scroll} > {width} px)"
    page.shot("audit")

    page.find("#nav-users").click()
    page.visible(row(ADMIN[0]))
    page.shot("users")


def test_requested_roles_are_never_preselected_and_privileged_ones_need_a_confirmation(cli, serve, browser):
    """A device that registers itself asking for `admin` and `ops`: the dialog shows them as a request with
    nothing ticked; ticking a privileged role and clicking Allow asks for a confirmation, and declining it
    grants nothing."""
    cli("role", "add", "ops")
    cli("role", "grant", "ops", "#", "--op", "readWrite")
    cli("role", "add", "sensor")
    cli("role", "grant", "sensor", "sensors/%u/#", "--op", "write")
    cli("registry", "unlock")
    intruder = {"username": "self-made-admin", "password": "intruder-pw-1", "roles": ["admin", "ops"]}
    assert serve.request("POST", "/api/client-registry/register", intruder).status == 202

    page = Page(browser, serve.url, "privileged")
    page.open("/login")
    page.login(*ADMIN)
    page.wait(EC.url_contains("/registry"))
    page.clickable(f'{row(intruder["username"])} [data-testid="pending-details-button"]').click()
    page.visible("#pending-dialog")
    page.text_in("#pending-details", "admin, ops")
    for name in ("admin", "ops", "sensor"):
        page.visible(f'#pending-role-list input[data-role="{name}"]')
        assert not page.find(f'#pending-role-list input[data-role="{name}"]').is_selected(), \
            f"{name} must not be pre-selected"
    labels = {el.find_element(By.CSS_SELECTOR, "input").get_attribute("data-role"): el.text
              for el in browser.find_elements(By.CSS_SELECTOR, "#pending-role-list label")}
    assert "requested" in labels["admin"].lower() and "privileged" in labels["admin"].lower()
    assert "requested" in labels["ops"].lower() and "privileged" in labels["ops"].lower()
    assert "requested" not in labels["sensor"].lower() and "privileged" not in labels["sensor"].lower()
    page.shot("nothing-preselected")

    # One click on Allow with nothing ticked grants nothing privileged; here the admin ticks admin on purpose.
    page.find('#pending-role-list input[data-role="admin"]').click()
    page.find("#pending-allow").click()
    alert = page.wait(EC.alert_is_present(), message="granting a privileged role must ask for a confirmation")
    assert "admin" in alert.text and "privileged" in alert.text
    alert.dismiss()
    page.text_in("#pending-dialog-error", "not confirmed")
    assert serve.as_admin("GET", "/api/users/self-made-admin").status == 404
    assert intruder["username"] in cli("registry", "list", "--json").stdout

    page.find("#pending-allow").click()
    page.wait(EC.alert_is_present()).accept()
    page.wait(EC.invisibility_of_element_located((By.ID, "pending-dialog")))
    page.text_in("#flash", "Allowed self-made-admin")
    assert serve.as_admin("GET", "/api/users/self-made-admin").json["roles"] == ["admin"]


def test_a_request_with_a_csr_shows_its_key_and_allowing_it_issues_a_certificate(site, serve, browser, workdir):
    """A device that sent a certificate signing request is marked in the table; its details show the
    request's key fingerprint (as `cwauth registry list` and openssl print it), and Allow in the browser
    gets the device its certificate on the next poll."""
    import subprocess
    site("ca", "init")
    key, csr = workdir / "cam.key", workdir / "cam.csr"
    subprocess.run(["openssl", "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                    "-keyout", str(key), "-out", str(csr), "-subj", "/CN=web-cam-1"], check=True, capture_output=True)
    fingerprint = subprocess.run(["sh", "-c", f"openssl req -in {csr} -pubkey -noout | openssl pkey -pubin -outform DER | sha256sum"],
                                 check=True, capture_output=True, text=True).stdout.split()[0]
    site("registry", "unlock")
    camera = {"username": "web-cam-1", "password": "web-cam-secret", "csr": csr.read_text()}
    plain = {"username": "web-plain-1", "password": "web-plain-secret"}
    assert serve.request("POST", "/api/client-registry/register", camera).status == 202
    assert serve.request("POST", "/api/client-registry/register", plain).status == 202

    page = Page(browser, serve.url, "csr")
    page.open("/login")
    page.login(*ADMIN)
    page.wait(EC.url_contains("/registry"))
    page.visible(f'{row("web-cam-1")} [data-testid="csr-badge"]')
    page.visible(row("web-plain-1"))
    assert not browser.find_elements(By.CSS_SELECTOR, f'{row("web-plain-1")} [data-testid="csr-badge"]')
    page.clickable(f'{row("web-plain-1")} [data-testid="pending-details-button"]').click()
    page.text_in("#pending-details", "no — logs in with its password")
    page.find("#pending-close").click()
    page.wait(EC.invisibility_of_element_located((By.ID, "pending-dialog")))
    page.clickable(f'{row("web-cam-1")} [data-testid="pending-details-button"]').click()
    page.text_in("#pending-details", f"SHA-256 {fingerprint}")
    page.shot("csr-details")
    page.clickable('#pending-role-list input[data-role="sensor"]').click()
    page.find("#pending-allow").click()
    page.wait(EC.invisibility_of_element_located((By.ID, "pending-dialog")))
    page.text_in("#flash", "Allowed web-cam-1")
    granted = serve.request("POST", "/api/client-registry/register", camera)
    assert granted.status == 201 and granted.json["grantType"] == "certificate"
    assert "BEGIN CERTIFICATE" in granted.json["certificate"]
