// What a user sees, in a real browser: Debian's chromium, driven by playwright-core, against
// the development stack (HA + the emulator) that tests/browser/test_browser.py starts.
//
// The steps build on each other like a user's first session: log in, add a second modem
// through the UI, look at the device page, take a call on the phone card, send an SMS from
// it, play the voicemail a caller left (test_browser.py left it before the suite), trip an
// action's error in Developer tools, find the call's recording in the media browser.
// Screenshots land in CALLSTACK_BROWSER.screenshots (scripts/screenshots copies them into
// docs/screenshots for the README).

import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { after, afterEach, before, describe, test } from "node:test";

import { ctl, launch, logIn, rest, screenshot, stack, until } from "./harness.mjs";

const en = JSON.parse(
  readFileSync(new URL("../../custom_components/callstack/translations/en.json", import.meta.url)),
);
const [first, second] = stack.emulators;
const CALLER = "+4915550000001";
const SECOND_CALLER = "+4915550000002";
const RECORDING = "browser-test.wav";
const DESKTOP = { width: 1280, height: 900 };
const PHONE = { width: 390, height: 844 };

/** The card's element with `data-testid` (playwright pierces the card's shadow root). */
function card(page, id) {
  return page.locator("callstack-phone-card").getByTestId(id);
}

describe("Callstack in Home Assistant's UI", () => {
  let browser;
  let page;

  before(async () => {
    browser = await launch();
    page = await (await browser.newContext({ viewport: DESKTOP })).newPage();
    page.setDefaultTimeout(10000); // a failing step fails in seconds, not the suite's budget
  });

  after(async () => {
    await browser?.close();
  });

  afterEach(async (t) => {
    // What the page showed at the end of each step: the first thing to look at on a failure.
    const name = t.name.replace(/[^a-z0-9]+/gi, "-").toLowerCase();
    await screenshot(page, `steps/${name}`).catch(() => {});
  });

  test("the development user logs in", async () => {
    await logIn(page);
    assert.equal(new URL(page.url()).pathname.startsWith("/auth/"), false);
  });

  test("a second modem is added through the config flow with Enter manually", async () => {
    await page.goto(`${stack.url}/config/integrations/dashboard/add?domain=callstack`);
    const dialog = page.locator("dialog-data-entry-flow");
    await page.getByRole("button", { name: "OK" }).click();
    await dialog.getByText(en.config.step.user.title).waitFor();
    await dialog.getByRole("radio", { name: "Enter manually" }).check();
    await screenshot(page, "config-flow-port");
    await dialog.getByRole("button", { name: "Submit" }).click();

    await dialog.getByText(en.config.step.manual.title).waitFor();
    await dialog.getByRole("textbox", { name: en.config.step.manual.data.at_port }).fill(
      second.at_link,
    );
    await dialog.getByRole("button", { name: "Submit" }).click();

    await dialog.getByText(en.config.step.audio.title).waitFor();
    // The audio port next to the AT port is found and filled in: in a text box on HA 2025.4,
    // in HA's serial port picker (a button that shows the chosen port) on 2026.11.
    const label = en.config.step.audio.data.serial_port; // (HA's usb component's key)
    const textbox = dialog.getByRole("textbox", { name: label });
    const picker = dialog.getByRole("button", { name: new RegExp(`^${label} `) });
    await textbox.or(picker).first().waitFor();
    if (await textbox.count()) {
      assert.equal(await textbox.inputValue(), second.audio_link);
    } else {
      assert.ok((await picker.innerText()).includes(second.audio_link), await picker.innerText());
    }
    await screenshot(page, "config-flow-audio");
    await dialog.getByRole("button", { name: "Submit" }).click();

    // HA 2025.4 ends with "Success" and Finish; 2026.11 with "Name and assign" and Skip and
    // finish (the name it suggests is kept).
    await dialog
      .getByRole("button", { name: /^(Finish|Skip and finish)$/ })
      .waitFor({ timeout: 20000 });
    await dialog.getByRole("button", { name: /^(Finish|Skip and finish)$/ }).click();
    const entries = await until("two loaded Callstack entries", async () => {
      const { body } = await rest("GET", "/api/config/config_entries/entry?domain=callstack");
      const loaded = body.filter((entry) => entry.state === "loaded");
      return loaded.length === 2 ? loaded : null;
    });
    assert.equal(entries.length, 2);
  });

  test("the device page shows every entity by its translated name", async () => {
    await page.goto(`${stack.url}/config/devices/device/${stack.device_id}`);
    const main = page.locator("ha-config-device-page");
    const shown = [
      en.entity.binary_sensor.audio_bridge.name,
      en.entity.binary_sensor.connected.name,
      en.entity.event.call.name,
      en.entity.event.dtmf.name,
      en.entity.sensor.call_state.name,
      en.entity.sensor.last_sms_received.name,
      en.entity.sensor.network_operator.name,
      en.entity.sensor.network_registration.name,
      en.entity.sensor.sim_status.name,
    ];
    for (const name of shown) {
      await main.getByText(name, { exact: true }).first().waitFor({ timeout: 5000 });
    }
    // No untranslated key anywhere, shadow roots included.
    const text = await main.evaluate((root) => {
      const deep = (node) =>
        [...node.childNodes]
          .map((child) => (child.nodeType === Node.TEXT_NODE ? child.textContent : deep(child)))
          .join(" ") + (node.shadowRoot ? deep(node.shadowRoot) : "");
      return deep(root);
    });
    assert.match(text, /Call state/);
    assert.doesNotMatch(text, /component\.callstack|callstack\.\w|translation_key/);
    await screenshot(page, "device-page");
  });

  test("a ring shows on the Call state sensor and the card within a second", async () => {
    await page.goto(`${stack.url}/${stack.dashboard}`);
    await card(page, "call-state").waitFor();
    assert.equal(await card(page, "call-state").innerText(), "Idle");
    await screenshot(page, "card-idle", { locator: page.locator("callstack-phone-card") });

    const rang = Date.now();
    await ctl(first.control, "ring", { number: CALLER });
    const onCard = card(page, "caller").getByText(CALLER).waitFor({ timeout: 5000 });
    // The row's state text is slotted into the row's shadow root: read the row's own text.
    const row = page.locator("hui-entities-card hui-generic-entity-row").first();
    const onSensor = until(
      "the Call state row to say Incoming",
      async () =>
        (await row.evaluate((element) => element.textContent.trim())) ===
        en.entity.sensor.call_state.state.incoming,
      5000,
    );
    const [cardMs, sensorMs] = await Promise.all(
      [onCard, onSensor].map((shown) => shown.then(() => Date.now() - rang)),
    );
    console.log(`ring shown: card ${cardMs} ms, Call state sensor ${sensorMs} ms`);
    assert.ok(cardMs < 1000, `the card showed the ring after ${cardMs} ms`);
    assert.ok(sensorMs < 1000, `the Call state sensor showed the ring after ${sensorMs} ms`);
    assert.equal(await card(page, "call-state").innerText(), "Incoming call");
  });

  test("the call is answered from the card and its audio recorded", async () => {
    await card(page, "answer").click();
    await until("the emulator's call to be active", async () => {
      const status = await ctl(first.control, "status");
      return status.call?.stat === "ACTIVE";
    });
    await card(page, "call-state").getByText("In call").waitFor();
    await card(page, "duration").getByText(/^0:0[1-9]$/).waitFor({ timeout: 5000 });
    await screenshot(page, "card-in-call", { locator: page.locator("callstack-phone-card") });

    const { status } = await rest("POST", "/api/services/callstack/record", {
      config_entry_id: stack.entry_id,
      duration: 1,
      filename: RECORDING,
    });
    assert.equal(status, 200);
  });

  test("keys on the dial pad send DTMF during the call", async () => {
    await card(page, "key-5").click();
    await until("the emulator to hear DTMF 5", async () => {
      const status = await ctl(first.control, "status");
      return status.dtmf_sent.includes("5");
    });
  });

  test("a second caller waits on the card and is rejected from it", async () => {
    await ctl(first.control, "ring", { number: SECOND_CALLER });
    await card(page, "waiting-caller").getByText(SECOND_CALLER).waitFor({ timeout: 5000 });
    await screenshot(page, "card-call-waiting", { locator: page.locator("callstack-phone-card") });
    await card(page, "reject-waiting").click();
    await until("the emulator to drop the waiting caller", async () => {
      const status = await ctl(first.control, "status");
      return status.calls.length === 1 && status.call?.stat === "ACTIVE";
    });
    await card(page, "waiting").waitFor({ state: "hidden" });
    assert.equal(await card(page, "call-state").innerText(), "In call");
  });

  test("the call is hung up from the card", async () => {
    await card(page, "hang-up").click();
    await until("the emulator's call to end", async () => {
      const status = await ctl(first.control, "status");
      return status.call === null;
    });
    await card(page, "call-state").getByText("Idle").waitFor();
    assert.equal(await card(page, "hang-up").isVisible(), false);
  });

  test("an SMS sent from the card reaches the network", async () => {
    await card(page, "sms-number").fill("+49 151 2345 6789");
    await card(page, "sms-text").fill("The door is open");
    await card(page, "sms-send").click();
    const sent = await until("the emulator to receive the SMS", async () => {
      const messages = await ctl(first.control, "sent-sms");
      return messages.find((message) => message.text === "The door is open");
    });
    assert.equal(sent.destination, "+4915123456789");
    await card(page, "messages").getByText("The door is open").waitFor();
    assert.equal(await card(page, "sms-text").inputValue(), "");
  });

  test("an SMS that arrives is listed on the card", async () => {
    await ctl(first.control, "sms", { sender: CALLER, text: "Parcel at the door" });
    await card(page, "messages").getByText("Parcel at the door").waitFor({ timeout: 5000 });
    await screenshot(page, "card-messages", { locator: page.locator("callstack-phone-card") });
  });

  test("the voicemail left is listed on the card and plays in the browser", async () => {
    const message = card(page, "voicemail-message").first();
    await message.getByText(stack.voicemail.caller).waitFor();
    await message.getByText(/ · \d+:\d\d$/).waitFor(); // when, and how long
    await message.getByTestId("voicemail-new").waitFor();
    if (stack.voicemail.transcript) {
      // pocketsphinx's transcript (where the offline STT runs; see the stack test)
      const transcript = message.getByTestId("voicemail-transcript");
      assert.equal(await transcript.innerText(), stack.voicemail.transcript);
    } else {
      assert.equal(await message.getByTestId("voicemail-transcript").count(), 0);
    }
    await screenshot(page, "card-voicemail", { locator: page.locator("callstack-phone-card") });

    await message.getByTestId("voicemail-play").click();
    const audio = card(page, "voicemail-audio");
    const playing = await until(
      "the card's audio element to play the message",
      () =>
        audio.evaluate((element) =>
          element.error
            ? { error: element.error.code }
            : element.currentTime > 0.3 && { src: element.currentSrc, paused: element.paused },
        ),
      10000,
    );
    assert.equal(playing.error, undefined, `the audio element failed: ${JSON.stringify(playing)}`);
    // Through a signed URL of HA's own: no token in the page's request, nothing from outside.
    assert.ok(playing.src.startsWith(`${stack.url}/media/local/`), playing.src);
    assert.match(playing.src, /\.wav\?authSig=/);
    assert.equal(await message.getByTestId("voicemail-play").getAttribute("aria-label"), "Stop");
    // Playing it marked it heard.
    await message.getByTestId("voicemail-new").waitFor({ state: "detached" });
    await message.getByTestId("voicemail-play").click();
    assert.equal(await audio.evaluate((element) => element.paused), true);
    assert.equal(await message.getByTestId("voicemail-play").getAttribute("aria-label"), "Play");
  });

  test("an action's error is shown on the card in words", async () => {
    await card(page, "answer").evaluate((button) => {
      button.hidden = false; // nothing rings: the modem says there is nothing to answer
    });
    await card(page, "answer").click();
    const message = en.exceptions.no_incoming_call.message.replace(/\.$/, "");
    await card(page, "error").getByText(message).waitFor();
  });

  test("the card reads well in the dark theme and on a phone", async () => {
    await page.emulateMedia({ colorScheme: "dark" });
    await page.reload();
    await card(page, "call-state").waitFor();
    await screenshot(page, "card-dark", { locator: page.locator("callstack-phone-card") });
    await page.emulateMedia({ colorScheme: "light" });
    await page.setViewportSize(PHONE);
    try {
      await page.reload();
      await card(page, "call-state").waitFor();
      const box = await page.locator("callstack-phone-card").boundingBox();
      assert.ok(box.width <= PHONE.width, `the card is ${box.width} px wide on a phone`);
      const overflow = await page.evaluate(
        () => document.documentElement.scrollWidth > window.innerWidth,
      );
      assert.equal(overflow, false, "the page scrolls sideways on a phone");
      await screenshot(page, "card-phone", { fullPage: true }); // the voicemail list below too
    } finally {
      await page.setViewportSize(DESKTOP);
    }
  });

  test("the card is offered in the card picker and its visual editor picks the modem", async () => {
    await page.goto(`${stack.url}/${stack.dashboard}`);
    await card(page, "call-state").waitFor();
    const offered = await page.evaluate(() =>
      (window.customCards || []).some((entry) => entry.type === "callstack-phone-card"),
    );
    assert.ok(offered, "the card is not in the card picker's list");
    // The editor as the dashboard editor mounts it, with HA's own form (loaded with it).
    const config = await page.evaluate(async (entryId) => {
      const hass = document.querySelector("home-assistant").hass;
      const element = await window.customElements
        .get("callstack-phone-card")
        .getConfigElement();
      document.body.appendChild(element);
      element.hass = hass;
      element.setConfig({ type: "custom:callstack-phone-card" });
      await window.customElements.whenDefined("ha-form");
      const changed = new Promise((resolve) => {
        element.addEventListener("config-changed", (ev) => resolve(ev.detail.config), {
          once: true,
        });
      });
      element.querySelector("ha-form").dispatchEvent(
        new CustomEvent("value-changed", { detail: { value: { config_entry_id: entryId } } }),
      );
      return changed;
    }, stack.entry_id);
    assert.deepEqual(config, { type: "custom:callstack-phone-card", config_entry_id: stack.entry_id });
    const picker = page.locator("callstack-phone-card-editor ha-selector-config_entry");
    await picker.waitFor({ state: "attached" });
  });

  test("record without a call in Developer tools shows the translated error", async () => {
    await page.goto(`${stack.url}/developer-tools/action`);
    await page.getByRole("button", { name: /yaml mode/i }).first().click(); // 2025.4: "Go to YAML mode"
    const editor = page.locator("ha-code-editor .cm-content").first();
    await editor.click();
    await page.keyboard.press("Control+A");
    await page.keyboard.press("Delete");
    // One line of data: the editor indents new lines by itself.
    await page.keyboard.type(
      `action: callstack.record\ndata: {"config_entry_id": "${stack.entry_id}", "duration": 2}`,
    );
    await page.getByRole("button", { name: /perform action/i }).click();
    const message = en.exceptions.audio_bridge_not_running.message.replace(/\.$/, "");
    await page.getByText(message).first().waitFor();
    await screenshot(page, "developer-tools-error");
  });

  test("the call's recording plays in the media browser", async () => {
    await page.goto(`${stack.url}/media-browser/browser`);
    // Visible text only: HA 2026.11 also puts each title into a hidden tooltip.
    const item = (title) => page.getByText(title, { exact: true }).filter({ visible: true });
    await item("My media").first().click();
    await item("callstack").first().click();
    await item(RECORDING).first().click();
    // The browser's own player plays it: its bar names the file and shows its length
    // ("0:01" on HA 2025.4, "00:01" on 2026.11).
    const player = page.locator("ha-bar-media-player");
    await player.getByText(RECORDING, { exact: true }).waitFor();
    await player.getByText(/^0?0:01$/).first().waitFor();
    await screenshot(page, "media-browser");
  });
});
