// Callstack phone card: the modem's line on a dashboard (call state, answer, hang up, a dial
// pad that dials and sends DTMF, the last SMS and a compose box, voicemail messages with play
// buttons when voicemail is on, signal and operator).
//
// Served by the integration itself (custom_components/callstack/card.py) as a frontend extra
// module, so it installs with the integration. Written without dependencies or a build step:
// plain custom elements and HA's theme variables, nothing loaded from anywhere else.
//
// State comes from the websocket subscription `callstack/phone/subscribe` (websocket_api.py):
// the caller's number and message texts are not entity history, so they reach the card only
// over the user's own authenticated connection. Actions go through `call_service`; their
// errors are shown in the user's language from the integration's translated exceptions.
// A voicemail plays in the card's own audio element: its media-source ID is resolved through
// HA's `media_source/resolve_media` to a URL signed for this user (no token in the page's
// audio request, nothing from outside HA); resolving it marks the message heard, as playing it
// in the media browser does.

const CARD_VERSION = "1";

const STRINGS = {
  en: {
    title: "Phone",
    unloaded: "The modem is not loaded.",
    disconnected: "The modem is not reachable.",
    state_idle: "Idle",
    state_dialing: "Dialing",
    state_alerting: "Ringing at the other end",
    state_incoming: "Incoming call",
    state_active: "In call",
    state_held: "On hold",
    state_waiting: "Call waiting",
    withheld: "Withheld number",
    answer: "Answer",
    hang_up: "Hang up",
    call: "Call",
    clear: "Delete last digit",
    number: "Phone number",
    messages: "Messages",
    no_messages: "No messages since Home Assistant started.",
    to: "To",
    message: "Message",
    send: "Send",
    incomplete: "incomplete",
    from_you: "You",
    dial_result_busy: "The line is busy.",
    dial_result_no_answer: "No answer.",
    dial_result_failed: "The call could not be placed.",
    dial_result_timeout: "No answer in time.",
    pick_modem: "Modem",
    card_title: "Title",
    waiting_from: "Call waiting:",
    held_call: "On hold:",
    take_waiting: "Answer, hold this call",
    reject: "Reject",
    resume: "Resume",
    voicemail: "Voicemail",
    voicemail_new: "{count} new",
    no_voicemail: "No voicemail.",
    new: "New",
    play: "Play",
    stop: "Stop",
    play_failed: "The message cannot be played.",
  },
  de: {
    title: "Telefon",
    unloaded: "Das Modem ist nicht geladen.",
    disconnected: "Das Modem ist nicht erreichbar.",
    state_idle: "Bereit",
    state_dialing: "Wählt",
    state_alerting: "Es klingelt beim Angerufenen",
    state_incoming: "Eingehender Anruf",
    state_active: "Im Gespräch",
    state_held: "Gehalten",
    state_waiting: "Anklopfen",
    withheld: "Unterdrückte Nummer",
    answer: "Annehmen",
    hang_up: "Auflegen",
    call: "Anrufen",
    clear: "Letzte Ziffer löschen",
    number: "Telefonnummer",
    messages: "Nachrichten",
    no_messages: "Keine Nachrichten seit dem Start von Home Assistant.",
    to: "An",
    message: "Nachricht",
    send: "Senden",
    incomplete: "unvollständig",
    from_you: "Du",
    dial_result_busy: "Besetzt.",
    dial_result_no_answer: "Keine Antwort.",
    dial_result_failed: "Der Anruf konnte nicht aufgebaut werden.",
    dial_result_timeout: "Keine Antwort in der Zeit.",
    pick_modem: "Modem",
    card_title: "Titel",
    waiting_from: "Anklopfen:",
    held_call: "Gehalten:",
    take_waiting: "Annehmen, dieses Gespräch halten",
    reject: "Abweisen",
    resume: "Fortsetzen",
    voicemail: "Mailbox",
    voicemail_new: "{count} neu",
    no_voicemail: "Keine Sprachnachrichten.",
    new: "Neu",
    play: "Abspielen",
    stop: "Anhalten",
    play_failed: "Die Nachricht lässt sich nicht abspielen.",
  },
};

const KEYS = ["1", "2", "3", "4", "5", "6", "7", "8", "9", "*", "0", "#"];
const MESSAGES_SHOWN = 5;

function strings(hass) {
  const language = (hass && (hass.locale?.language || hass.language)) || "en";
  return STRINGS[language.split("-")[0]] || STRINGS.en;
}

function formatDuration(seconds) {
  const s = Math.max(0, Math.floor(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const pad = (n) => String(n).padStart(2, "0");
  return h ? `${h}:${pad(m)}:${pad(s % 60)}` : `${m}:${pad(s % 60)}`;
}

const STYLE = `
  :host { display: block; }
  ha-card { padding: 16px; box-sizing: border-box; color: var(--primary-text-color); }
  .header { display: flex; align-items: baseline; justify-content: space-between; gap: 8px; }
  .header h2 { margin: 0; font-size: 1.2em; font-weight: 500; }
  .network { color: var(--secondary-text-color); font-size: 0.85em; white-space: nowrap; }
  .layout { display: flex; flex-wrap: wrap; gap: 16px; margin-top: 12px; }
  .phone, .sms, .voicemail { flex: 1 1 260px; min-width: 0; }
  .call { padding: 12px; border-radius: 12px; background: var(--secondary-background-color); }
  .call-state { font-size: 1.1em; font-weight: 500; }
  .call-detail { color: var(--secondary-text-color); margin-top: 4px; min-height: 1.3em;
    overflow-wrap: anywhere; }
  .call-actions { display: flex; gap: 8px; margin-top: 12px; }
  button { font: inherit; cursor: pointer; border: none; border-radius: 20px; padding: 8px 16px;
    color: var(--text-primary-color, #fff); background: var(--primary-color); min-height: 40px; }
  button:disabled { opacity: 0.4; cursor: default; }
  button.answer { background: var(--success-color, #43a047); flex: 1; }
  button.hangup { background: var(--error-color, #db4437); flex: 1; }
  .display { display: flex; gap: 8px; margin-top: 12px; }
  input, textarea { font: inherit; color: var(--primary-text-color); min-width: 0;
    background: var(--card-background-color, var(--ha-card-background));
    border: 1px solid var(--divider-color); border-radius: 8px; padding: 8px; box-sizing: border-box; }
  .display input { flex: 1; font-size: 1.2em; letter-spacing: 0.05em; }
  .pad { display: grid; grid-template-columns: repeat(3, 1fr); gap: 8px; margin-top: 8px; }
  .pad button { background: var(--secondary-background-color); color: var(--primary-text-color);
    font-size: 1.3em; border-radius: 12px; }
  .dial { width: 100%; margin-top: 8px; }
  .clear { background: transparent; color: var(--secondary-text-color); padding: 8px; }
  h3 { margin: 0 0 8px; font-size: 1em; font-weight: 500; }
  ul { list-style: none; margin: 0; padding: 0; }
  li { padding: 8px 0; border-bottom: 1px solid var(--divider-color); }
  .meta { color: var(--secondary-text-color); font-size: 0.85em; display: flex;
    justify-content: space-between; gap: 8px; }
  .text { white-space: pre-wrap; overflow-wrap: anywhere; margin-top: 2px; }
  .empty { color: var(--secondary-text-color); }
  form { display: flex; flex-direction: column; gap: 8px; margin-top: 12px; }
  textarea { resize: vertical; min-height: 60px; }
  .other { display: flex; align-items: center; flex-wrap: wrap; gap: 8px; margin-top: 12px;
    padding-top: 12px; border-top: 1px solid var(--divider-color); }
  .other span { flex: 1 1 120px; overflow-wrap: anywhere; }
  .other button { padding: 6px 12px; min-height: 36px; }
  .voicemail li { display: flex; align-items: flex-start; gap: 10px; }
  .voicemail .body { flex: 1; min-width: 0; }
  .voicemail button.play { flex: none; width: 40px; height: 40px; padding: 0; border-radius: 50%;
    font-size: 1em; line-height: 40px; }
  .voicemail li.heard .who { font-weight: normal; }
  .voicemail li:not(.heard) .who { font-weight: 500; color: var(--primary-text-color); }
  .badge { flex: none; font-size: 0.75em; padding: 2px 8px; border-radius: 10px;
    color: var(--text-primary-color, #fff); background: var(--accent-color, var(--primary-color)); }
  .count { color: var(--secondary-text-color); font-weight: normal; }
  .error { color: var(--error-color, #db4437); margin-top: 12px; overflow-wrap: anywhere; }
  .notice { color: var(--secondary-text-color); margin-top: 12px; }
  [hidden] { display: none !important; }
`;

const TEMPLATE = `
  <ha-card>
    <div class="header">
      <h2 data-testid="title"></h2>
      <span class="network" data-testid="network"></span>
    </div>
    <div class="notice" data-testid="notice" hidden></div>
    <div class="layout">
      <section class="phone">
        <div class="call" data-testid="call">
          <div class="call-state" data-testid="call-state"></div>
          <div class="call-detail"><span data-testid="caller"></span>
            <span data-testid="duration"></span></div>
          <div class="call-actions">
            <button class="answer" data-testid="answer" hidden></button>
            <button class="hangup" data-testid="hang-up" hidden></button>
          </div>
          <div class="other" data-testid="waiting" hidden>
            <span data-testid="waiting-caller"></span>
            <button class="answer" data-testid="take-waiting"></button>
            <button class="hangup" data-testid="reject-waiting"></button>
          </div>
          <div class="other" data-testid="held" hidden>
            <span data-testid="held-caller"></span>
            <button data-testid="resume-held"></button>
          </div>
        </div>
        <div class="display">
          <input data-testid="number" inputmode="tel" autocomplete="off">
          <button class="clear" data-testid="clear">⌫</button>
        </div>
        <div class="pad" data-testid="pad"></div>
        <button class="dial" data-testid="dial"></button>
      </section>
      <section class="sms">
        <h3 data-testid="messages-title"></h3>
        <ul data-testid="messages"></ul>
        <form data-testid="compose">
          <input data-testid="sms-number" inputmode="tel" autocomplete="off">
          <textarea data-testid="sms-text"></textarea>
          <button type="submit" data-testid="sms-send"></button>
        </form>
      </section>
      <section class="voicemail" data-testid="voicemail" hidden>
        <h3><span data-testid="voicemail-title"></span>
          <span class="count" data-testid="voicemail-count"></span></h3>
        <ul data-testid="voicemail-messages"></ul>
      </section>
    </div>
    <div class="error" data-testid="error" role="alert" hidden></div>
  </ha-card>
`;

class CallstackPhoneCard extends HTMLElement {
  constructor() {
    super();
    this._config = undefined;
    this._hass = undefined;
    this._phone = undefined;
    this._unsubscribe = undefined;
    this._subscribedTo = undefined;
    this._timer = undefined;
    this._playing = undefined; // the voicemail message ID the audio element plays
    this._audio = undefined; // the audio element playing it (a new one for each message)
    this._voicemailShown = undefined; // what the voicemail list was last built from
    this.attachShadow({ mode: "open" });
  }

  static getConfigElement() {
    return document.createElement("callstack-phone-card-editor");
  }

  static getStubConfig() {
    return {};
  }

  setConfig(config) {
    if (!config || typeof config !== "object") {
      throw new Error("Invalid configuration");
    }
    this._config = { ...config };
    this._resubscribe();
    this._render();
  }

  set hass(hass) {
    const first = !this._hass;
    this._hass = hass;
    if (first) {
      this._build();
    }
    this._resubscribe();
    this._render();
  }

  get hass() {
    return this._hass;
  }

  getCardSize() {
    return this._phone?.voicemail ? 10 : 8;
  }

  getGridOptions() {
    return { columns: 12, min_columns: 6, rows: "auto" };
  }

  connectedCallback() {
    this._resubscribe();
    this._timer = window.setInterval(() => this._renderDuration(), 1000);
  }

  disconnectedCallback() {
    window.clearInterval(this._timer);
    this._timer = undefined;
    this._unsubscribeNow();
    this._stopVoicemail();
  }

  // --- subscription -------------------------------------------------------------------

  _resubscribe() {
    if (!this._hass || !this._config || !this.isConnected) {
      return;
    }
    const entryId = this._config.config_entry_id || null;
    if (this._unsubscribe && this._subscribedTo === entryId) {
      return;
    }
    this._unsubscribeNow();
    this._subscribedTo = entryId;
    const message = { type: "callstack/phone/subscribe" };
    if (entryId) {
      message.config_entry_id = entryId;
    }
    const pending = this._hass.connection.subscribeMessage((phone) => {
      this._phone = phone;
      this._render();
    }, message);
    this._unsubscribe = pending;
    pending.catch((err) => {
      if (this._unsubscribe === pending) {
        this._unsubscribe = undefined;
      }
      this._showError(err);
    });
  }

  _unsubscribeNow() {
    const pending = this._unsubscribe;
    this._unsubscribe = undefined;
    if (pending) {
      pending.then((unsubscribe) => unsubscribe()).catch(() => {});
    }
  }

  // --- DOM ------------------------------------------------------------------------------

  _el(id) {
    return this.shadowRoot.querySelector(`[data-testid="${id}"]`);
  }

  _build() {
    this.shadowRoot.innerHTML = `<style>${STYLE}</style>${TEMPLATE}`;
    const pad = this._el("pad");
    for (const key of KEYS) {
      const button = document.createElement("button");
      button.textContent = key;
      button.dataset.testid = `key-${key === "*" ? "star" : key === "#" ? "hash" : key}`;
      button.addEventListener("click", () => this._key(key));
      pad.appendChild(button);
    }
    this._el("answer").addEventListener("click", () => this._action("answer"));
    this._el("hang-up").addEventListener("click", () => this._action("hang_up"));
    this._el("take-waiting").addEventListener("click", () => this._action("answer"));
    this._el("reject-waiting").addEventListener("click", () =>
      this._action("hang_up", { target: "waiting" }),
    );
    this._el("resume-held").addEventListener("click", () => this._action("answer"));
    this._el("dial").addEventListener("click", () => this._dial());
    this._el("clear").addEventListener("click", () => {
      const input = this._el("number");
      input.value = input.value.slice(0, -1);
    });
    this._el("number").addEventListener("keydown", (ev) => {
      if (ev.key === "Enter") {
        this._dial();
      }
    });
    this._el("compose").addEventListener("submit", (ev) => {
      ev.preventDefault();
      this._sendSms();
    });
  }

  _render() {
    if (!this._hass || !this.shadowRoot.firstChild) {
      return;
    }
    const t = strings(this._hass);
    const phone = this._phone;
    const call = phone?.call;
    const state = call?.state || "idle";
    const usable = Boolean(phone?.loaded && phone?.connected);
    const inCall = usable && state !== "idle";

    this._el("title").textContent = this._config?.title || phone?.title || t.title;
    this._el("network").textContent = usable ? this._networkText(phone) : "";
    const notice = this._el("notice");
    notice.hidden = !phone || usable;
    notice.textContent = phone && !phone.loaded ? t.unloaded : t.disconnected;

    this._el("call-state").textContent = t[`state_${state}`] || state;
    const caller = this._el("caller");
    caller.textContent = inCall ? call.number || t.withheld : "";
    this._el("answer").textContent = t.answer;
    this._el("answer").hidden = !(usable && state === "incoming");
    this._el("hang-up").textContent = t.hang_up;
    this._el("hang-up").hidden = !inCall;
    this._renderOther(t, "waiting", usable ? call?.waiting : null, t.waiting_from);
    this._renderOther(t, "held", usable ? call?.held : null, t.held_call);
    this._el("take-waiting").textContent = t.take_waiting;
    this._el("reject-waiting").textContent = t.reject;
    this._el("resume-held").textContent = t.resume;
    this._renderDuration();

    const dial = this._el("dial");
    dial.textContent = t.call;
    dial.hidden = inCall;
    dial.disabled = !usable;
    this._el("number").placeholder = t.number;
    this._el("clear").title = t.clear;
    this._el("clear").setAttribute("aria-label", t.clear);

    this._el("messages-title").textContent = t.messages;
    this._renderMessages(t, phone?.messages || []);
    this._el("sms-number").placeholder = t.to;
    this._el("sms-text").placeholder = t.message;
    const send = this._el("sms-send");
    send.textContent = t.send;
    send.disabled = !usable;

    this._renderVoicemail(t, phone?.loaded ? phone.voicemail : null);
  }

  _renderOther(t, id, other, label) {
    this._el(id).hidden = !other;
    this._el(`${id}-caller`).textContent = other ? `${label} ${other.number || t.withheld}` : "";
  }

  _networkText(phone) {
    const parts = [];
    if (phone.operator) {
      parts.push(phone.operator);
    }
    if (phone.technology) {
      parts.push(phone.technology);
    }
    if (phone.signal_dbm !== null && phone.signal_dbm !== undefined) {
      parts.push(`${phone.signal_dbm} dBm`);
    }
    return parts.join(" · ");
  }

  _renderDuration() {
    if (!this.shadowRoot.firstChild) {
      return;
    }
    const since = this._phone?.call?.since;
    const element = this._el("duration");
    if (!since || this._phone?.call?.state !== "active") {
      element.textContent = "";
      return;
    }
    element.textContent = formatDuration((Date.now() - Date.parse(since)) / 1000);
  }

  _renderMessages(t, messages) {
    const list = this._el("messages");
    list.replaceChildren();
    if (!messages.length) {
      const empty = document.createElement("li");
      empty.className = "empty";
      empty.textContent = t.no_messages;
      list.appendChild(empty);
      return;
    }
    const format = new Intl.DateTimeFormat(this._hass.locale?.language || "en", {
      dateStyle: "short",
      timeStyle: "short",
    });
    for (const message of messages.slice(0, MESSAGES_SHOWN)) {
      const item = document.createElement("li");
      item.dataset.testid = "message";
      const meta = document.createElement("div");
      meta.className = "meta";
      const who = document.createElement("span");
      const number = message.number || t.withheld;
      who.textContent = message.direction === "out" ? `${t.from_you} → ${number}` : number;
      const when = document.createElement("span");
      when.textContent = format.format(new Date(message.time));
      meta.append(who, when);
      const text = document.createElement("div");
      text.className = "text";
      text.textContent = message.incomplete ? `${message.text} (${t.incomplete})` : message.text;
      item.append(meta, text);
      list.appendChild(item);
    }
  }

  _renderVoicemail(t, voicemail) {
    // Voicemail off (or the modem not loaded): no section at all.
    this._el("voicemail").hidden = !voicemail;
    if (!voicemail) {
      this._stopVoicemail();
      return;
    }
    // Rebuilt only when something it shows changed: the card renders on every state change in
    // HA, and a play button replaced between press and release would lose the click.
    const shown = JSON.stringify([voicemail, this._playing, this._hass.locale?.language, t.play]);
    if (shown === this._voicemailShown) {
      return;
    }
    this._voicemailShown = shown;
    this._el("voicemail-title").textContent = t.voicemail;
    this._el("voicemail-count").textContent = voicemail.new
      ? t.voicemail_new.replace("{count}", voicemail.new)
      : "";
    const list = this._el("voicemail-messages");
    list.replaceChildren();
    if (!voicemail.messages.length) {
      const empty = document.createElement("li");
      empty.className = "empty";
      empty.textContent = t.no_voicemail;
      list.appendChild(empty);
      return;
    }
    const format = new Intl.DateTimeFormat(this._hass.locale?.language || "en", {
      dateStyle: "short",
      timeStyle: "short",
    });
    for (const message of voicemail.messages) {
      const item = document.createElement("li");
      item.dataset.testid = "voicemail-message";
      item.className = message.heard ? "heard" : "";
      const play = document.createElement("button");
      play.className = "play";
      play.dataset.testid = "voicemail-play";
      const playing = this._playing === message.id;
      const label = playing ? t.stop : t.play;
      play.textContent = playing ? "■" : "▶";
      play.title = label;
      play.setAttribute("aria-label", label);
      play.addEventListener("click", () => this._toggleVoicemail(message));
      const body = document.createElement("div");
      body.className = "body";
      const meta = document.createElement("div");
      meta.className = "meta";
      const who = document.createElement("span");
      who.className = "who";
      who.textContent = message.number || t.withheld;
      const when = document.createElement("span");
      when.textContent = `${format.format(new Date(message.received))} · ${formatDuration(
        message.duration,
      )}`;
      meta.append(who, when);
      body.appendChild(meta);
      if (message.transcript) {
        const text = document.createElement("div");
        text.className = "text";
        text.dataset.testid = "voicemail-transcript";
        text.textContent = message.transcript;
        body.appendChild(text);
      }
      item.append(play, body);
      if (!message.heard) {
        const badge = document.createElement("span");
        badge.className = "badge";
        badge.dataset.testid = "voicemail-new";
        badge.textContent = t.new;
        item.appendChild(badge);
      }
      list.appendChild(item);
    }
  }

  // --- voicemail playback -----------------------------------------------------------------

  async _toggleVoicemail(message) {
    if (this._playing === message.id) {
      this._stopVoicemail();
      return;
    }
    this._stopVoicemail();
    this._showText("");
    this._playing = message.id;
    this._render();
    try {
      // A URL signed for this user, short-lived; resolving marks the message heard.
      const resolved = await this._hass.callWS({
        type: "media_source/resolve_media",
        media_content_id: message.media_content_id,
      });
      if (this._playing !== message.id) {
        return; // stopped or another message started meanwhile
      }
      await this._newAudio(this._hass.hassUrl(resolved.url)).play();
    } catch (err) {
      if (this._playing === message.id) {
        this._stopVoicemail();
        if (err instanceof DOMException) {
          this._showText(strings(this._hass).play_failed); // the browser cannot play it
        } else {
          await this._showError(err); // HA could not resolve it (deleted meanwhile, ...)
        }
      }
    }
  }

  /** A fresh audio element for `url` in place of the last one: events of a message that
   * was stopped (its pause, a late error) cannot end the next one. */
  _newAudio(url) {
    const audio = document.createElement("audio");
    audio.dataset.testid = "voicemail-audio";
    const ours = () => this._audio === audio && this._playing;
    for (const type of ["ended", "pause"]) {
      audio.addEventListener(type, () => ours() && this._stopVoicemail());
    }
    audio.addEventListener("error", () => {
      if (ours()) {
        this._stopVoicemail();
        this._showText(strings(this._hass).play_failed);
      }
    });
    this._el("voicemail-audio")?.remove(); // the last one, stopped
    this._audio = audio;
    this._el("voicemail").appendChild(audio);
    audio.src = url;
    return audio;
  }

  _stopVoicemail() {
    const was = this._playing;
    const audio = this._audio;
    this._playing = undefined;
    this._audio = undefined; // its own events are no longer ours
    if (audio && !audio.paused) {
      audio.pause();
    }
    if (was) {
      this._render();
    }
  }

  // --- actions ----------------------------------------------------------------------------

  _entryData() {
    const entryId = this._config?.config_entry_id || this._phone?.config_entry_id;
    return entryId ? { config_entry_id: entryId } : {};
  }

  _key(key) {
    const state = this._phone?.call?.state || "idle";
    if (state === "active") {
      this._action("send_dtmf", { digits: key });
      return;
    }
    this._el("number").value += key;
  }

  async _dial() {
    const number = this._el("number").value.replace(/[\s()/-]/g, "");
    if (!number) {
      return;
    }
    const response = await this._action("dial", { number });
    const result = response?.response?.result;
    if (result && result !== "answered") {
      const t = strings(this._hass);
      this._showText(t[`dial_result_${result}`] || result);
    } else if (result === "answered") {
      this._el("number").value = "";
    }
  }

  async _sendSms() {
    const number = this._el("sms-number").value.replace(/[\s()/-]/g, "");
    const text = this._el("sms-text").value;
    const response = await this._action("send_sms", { number, message: text });
    if (response) {
      this._el("sms-text").value = "";
    }
  }

  async _action(service, data = {}) {
    this._showText("");
    try {
      return await this._hass.callWS({
        type: "call_service",
        domain: "callstack",
        service,
        service_data: { ...this._entryData(), ...data },
        return_response: service === "dial",
      });
    } catch (err) {
      await this._showError(err);
      return undefined;
    }
  }

  async _showError(err) {
    this._showText(await this._localizeError(err));
  }

  async _localizeError(err) {
    const hass = this._hass;
    if (err && err.translation_key && err.translation_domain && hass) {
      try {
        await hass.loadBackendTranslation("exceptions", err.translation_domain);
      } catch (_loadError) {
        // The English message below still says what went wrong.
      }
      const text = hass.localize(
        `component.${err.translation_domain}.exceptions.${err.translation_key}.message`,
        err.translation_placeholders || {},
      );
      if (text) {
        return text;
      }
    }
    return (err && err.message) || String(err);
  }

  _showText(text) {
    const element = this._el("error");
    if (!element) {
      return;
    }
    element.textContent = text;
    element.hidden = !text;
  }
}

class CallstackPhoneCardEditor extends HTMLElement {
  constructor() {
    super();
    this._config = {};
    this._hass = undefined;
    this._form = undefined;
  }

  setConfig(config) {
    this._config = { ...config };
    this._update();
  }

  set hass(hass) {
    this._hass = hass;
    this._update();
  }

  _update() {
    if (!this._hass) {
      return;
    }
    if (!this._form) {
      this._form = document.createElement("ha-form");
      this._form.addEventListener("value-changed", (ev) => {
        const config = { ...this._config, ...ev.detail.value };
        for (const key of Object.keys(config)) {
          if (config[key] === "" || config[key] === undefined || config[key] === null) {
            delete config[key];
          }
        }
        config.type = this._config.type || "custom:callstack-phone-card";
        this._config = config;
        this.dispatchEvent(
          new CustomEvent("config-changed", { detail: { config }, bubbles: true, composed: true }),
        );
      });
      this.appendChild(this._form);
    }
    const t = strings(this._hass);
    this._form.hass = this._hass;
    this._form.data = this._config;
    this._form.schema = [
      { name: "config_entry_id", selector: { config_entry: { integration: "callstack" } } },
      { name: "title", selector: { text: {} } },
    ];
    this._form.computeLabel = (schema) =>
      schema.name === "config_entry_id" ? t.pick_modem : t.card_title;
  }
}

if (!customElements.get("callstack-phone-card")) {
  customElements.define("callstack-phone-card", CallstackPhoneCard);
  customElements.define("callstack-phone-card-editor", CallstackPhoneCardEditor);
  window.customCards = window.customCards || [];
  window.customCards.push({
    type: "callstack-phone-card",
    name: "Callstack phone",
    description: "Answer, hang up, dial, send DTMF and SMS through a Callstack modem.",
    preview: false,
    documentationURL: "https://github.com/callstack-ha/callstack#phone-card",
  });
  console.info(`%c callstack-phone-card %c ${CARD_VERSION} `, "font-weight:bold", "");
}
