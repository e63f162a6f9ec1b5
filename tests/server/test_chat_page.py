"""The chat page at / in a real headless browser (Debian chromium + chromedriver, selenium):
load it, send a prompt, see streamed text appear, press stop."""
import os
import time

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import WebDriverWait

SHOTS = os.environ.get("VKS_SCREENSHOT_DIR")  # set to keep screenshots of the page


def browser():
    opts = webdriver.ChromeOptions()
    for a in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu", "--window-size=1200,800"):
        opts.add_argument(a)
    opts.binary_location = "/usr/bin/chromium"
    return webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=opts)


def shot(driver, name):
    if SHOTS:
        os.makedirs(SHOTS, exist_ok=True)
        driver.save_screenshot(os.path.join(SHOTS, name + ".png"))


def active(server):
    _, body = server.get("/metrics")
    return float([l for l in body.splitlines() if l.startswith("vkstream_requests_active ")][0].split()[1])


def test_chat_page_streams_and_stops(make_server):
    s = make_server()
    d = browser()
    try:
        d.get(s.url + "/")
        wait = WebDriverWait(d, 60, poll_frequency=0.05)
        wait.until(lambda d: "SmolLM2" in d.find_element(By.ID, "model").text)
        shot(d, "1-empty")

        # A short answer runs to its end: the text streams in, then the buttons reset. Greedy, so
        # the answer is the same every run (the page's default temperature is 0.7).
        d.find_element(By.ID, "temperature").clear()
        d.find_element(By.ID, "temperature").send_keys("0")
        box = d.find_element(By.ID, "prompt")
        box.send_keys("What is the capital of France? One word.")
        box.send_keys(Keys.ENTER)
        wait.until(lambda d: "Paris" in d.find_elements(By.CSS_SELECTOR, ".msg.assistant .body")[-1].text)
        wait.until(lambda d: not d.find_element(By.ID, "send").get_property("disabled"))
        assert "tok/s" in d.find_element(By.ID, "speed").text
        assert " / " in d.find_element(By.ID, "fill").text
        shot(d, "2-answered")

        # A long one is stopped mid-stream: text seen growing, stop pressed, generation ends.
        d.find_element(By.ID, "max_tokens").clear()
        d.find_element(By.ID, "max_tokens").send_keys("2000")
        box.send_keys("Write a long story about a dragon who learns to cook.")
        d.find_element(By.ID, "send").click()
        reply = lambda: d.find_elements(By.CSS_SELECTOR, ".msg.assistant .body")[-1].text
        wait.until(lambda d: len(reply()) > 20)
        seen = reply()
        wait.until(lambda d: len(reply()) > len(seen))  # still growing: streamed, not all at once
        shot(d, "3-streaming")
        d.find_element(By.ID, "stop").click()
        wait.until(lambda d: not d.find_element(By.ID, "send").get_property("disabled"))
        assert d.find_element(By.ID, "stop").get_property("disabled")
        stopped = reply()
        deadline = time.monotonic() + 10
        while active(s) != 0:  # the server saw the client go and stopped generating
            assert time.monotonic() < deadline, "generation went on after stop"
            time.sleep(0.05)
        time.sleep(0.3)
        assert reply() == stopped
        assert not d.find_elements(By.CSS_SELECTOR, ".msg.error")
        shot(d, "4-stopped")
    finally:
        d.quit()
