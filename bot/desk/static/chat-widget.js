/* Pigeon web chat widget. A store adds one tag to its pages:
 *   <script src="https://DESK/chat/widget.js" data-server="https://RASA-PUBLIC-URL" async></script>
 * Optional: data-title="Chat with Pigeon Supply Co." (the panel's heading).
 *
 * Vanilla JavaScript, no build step. Every text (the visitor's, the assistant's, an agent's)
 * goes into the page through textContent, never as markup. The visitor's token is kept in
 * localStorage, so a reload keeps the conversation; it travels only in the Authorization
 * header, never in a URL.
 */
(function () {
  "use strict";

  var script = document.currentScript;
  if (!script || window.__pigeonChat) return;
  window.__pigeonChat = true;

  var server = (script.getAttribute("data-server") || "").replace(/\/+$/, "");
  if (!server) {
    console.warn("Pigeon chat: the script tag needs data-server (the chat server's URL)");
    return;
  }
  var API = server + "/webhooks/chat/";
  var TITLE = script.getAttribute("data-title") || "Chat with us";
  var STORAGE_KEY = "pigeon-chat-token:" + server;
  var POLL_OPEN = 1500, POLL_CLOSED = 10000, POLL_HIDDEN = 30000, POLL_MAX = 60000;
  var SEND_TRIES = 5;
  var MAX_TEXT = 4000;

  var token = load();
  var lastId = 0;
  var shown = {};          // message id -> its element
  var unconfirmed = [];    // the visitor's messages sent but not yet read back
  var open = false, polling = false, failures = 0, timer = null, sessionAsked = null;
  var firstLoad = true;

  // --- the DOM ---------------------------------------------------------------------------

  function make(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  var css = make("link");
  css.rel = "stylesheet";
  css.href = script.src.replace(/widget\.js(\?.*)?$/, "widget.css");
  document.head.appendChild(css);

  var root = make("div", "pigeon-chat");
  root.id = "pigeon-chat";
  var launcher = make("button", "pigeon-chat-launcher", TITLE);
  launcher.type = "button";
  launcher.setAttribute("aria-expanded", "false");
  launcher.setAttribute("aria-controls", "pigeon-chat-panel");
  var badge = make("span", "pigeon-chat-badge", "new");
  badge.hidden = true;
  launcher.appendChild(badge);

  var panel = make("section", "pigeon-chat-panel");
  panel.id = "pigeon-chat-panel";
  panel.hidden = true;
  panel.setAttribute("role", "dialog");
  panel.setAttribute("aria-labelledby", "pigeon-chat-title");
  var head = make("header", "pigeon-chat-head");
  var heading = make("h2", "pigeon-chat-title", TITLE);
  heading.id = "pigeon-chat-title";
  var closer = make("button", "pigeon-chat-close", "\u00d7");
  closer.type = "button";
  closer.setAttribute("aria-label", "Close chat");
  head.appendChild(heading);
  head.appendChild(closer);

  var log = make("ol", "pigeon-chat-log");
  log.setAttribute("role", "log");
  log.setAttribute("aria-live", "polite");
  log.setAttribute("aria-label", "Conversation");
  var intro = make("li", "pigeon-chat-msg pigeon-chat-assistant pigeon-chat-intro");
  intro.appendChild(make("span", "pigeon-chat-who", "Assistant"));
  intro.appendChild(make("p", "pigeon-chat-text",
    "Hi! Ask me about an order, a return or a product, or ask for a person."));
  log.appendChild(intro);

  var status = make("p", "pigeon-chat-status");
  status.setAttribute("role", "status");

  var form = make("form", "pigeon-chat-form");
  var label = make("label", "pigeon-chat-sr", "Your message");
  label.htmlFor = "pigeon-chat-input";
  var input = make("input", "pigeon-chat-input");
  input.id = "pigeon-chat-input";
  input.type = "text";
  input.autocomplete = "off";
  input.maxLength = MAX_TEXT;
  input.placeholder = "Type a message\u2026";
  var send = make("button", "pigeon-chat-send", "Send");
  send.type = "submit";
  form.appendChild(label);
  form.appendChild(input);
  form.appendChild(send);

  panel.appendChild(head);
  panel.appendChild(log);
  panel.appendChild(status);
  panel.appendChild(form);
  root.appendChild(panel);
  root.appendChild(launcher);

  function mount() { document.body.appendChild(root); }
  if (document.body) mount(); else document.addEventListener("DOMContentLoaded", mount);

  // --- opening and closing ---------------------------------------------------------------

  function setOpen(value) {
    open = value;
    panel.hidden = !open;
    launcher.setAttribute("aria-expanded", String(open));
    if (open) {
      badge.hidden = true;
      input.focus();
      scrollDown();
      if (token) schedule(0);
    } else {
      launcher.focus();
    }
  }

  launcher.addEventListener("click", function () { setOpen(!open); });
  closer.addEventListener("click", function () { setOpen(false); });
  panel.addEventListener("keydown", function (event) {
    if (event.key === "Escape") setOpen(false);
  });
  form.addEventListener("submit", function (event) {
    event.preventDefault();  // Enter in the field submits the form: it sends
    var text = input.value.trim();
    if (!text) return;
    input.value = "";
    say(text);
  });
  document.addEventListener("visibilitychange", function () {
    if (!document.hidden && token) schedule(0);
  });

  // --- messages --------------------------------------------------------------------------

  function who(author, name) {
    if (author === "customer") return "You";
    if (author === "agent") return name || "Support";
    return "Assistant";
  }

  function bubble(author, name, text) {
    var item = make("li", "pigeon-chat-msg pigeon-chat-" + author);
    item.appendChild(make("span", "pigeon-chat-who", who(author, name)));
    item.appendChild(make("p", "pigeon-chat-text", text));
    log.appendChild(item);
    scrollDown();
    return item;
  }

  function note(item, text, className) {
    var old = item.querySelector(".pigeon-chat-note");
    if (old) item.removeChild(old);
    if (text) item.appendChild(make("span", "pigeon-chat-note " + (className || ""), text));
  }

  function scrollDown() { log.scrollTop = log.scrollHeight; }

  function show(message) {
    lastId = Math.max(lastId, message.id);
    if (shown[message.id]) return;
    var item = message.author === "customer" ? adopt(message) : null;
    if (!item) item = bubble(message.author, message.name, message.text);
    item.setAttribute("data-id", String(message.id));
    shown[message.id] = item;
    if (message.failed) note(item, "Not answered yet; our team can see it.");
    if (message.author !== "customer" && !open && !firstLoad) badge.hidden = false;
  }

  function adopt(message) {
    // The visitor's own message, already on screen since they sent it.
    for (var i = 0; i < unconfirmed.length; i++) {
      var sent = unconfirmed[i];
      if (sent.id === message.id || (sent.id === null && sent.text === message.text)) {
        unconfirmed.splice(i, 1);
        sent.item.classList.remove("pigeon-chat-sending");
        note(sent.item, "");
        return sent.item;
      }
    }
    return null;
  }

  function say(text) {
    var sent = { text: text, clientId: newId(), id: null, item: bubble("customer", null, text) };
    sent.item.classList.add("pigeon-chat-sending");
    unconfirmed.push(sent);
    deliver(sent, 1, false);
  }

  function deliver(sent, attempt, renewed) {
    note(sent.item, attempt > 1 ? "Sending again\u2026" : "");
    withToken()
      .then(function () {
        return call("POST", "webhook", { text: sent.text, id: sent.clientId });
      })
      .then(function (answer) {
        sent.id = answer.id;
        status.textContent = "";
        if (!shown[answer.id]) note(sent.item, "");
        schedule(300);
      })
      .catch(function (error) {
        if (error.status === 401 && !renewed) {  // the token is no longer valid: start afresh
          forget();
          return deliver(sent, attempt, true);
        }
        var transient = !error.status || error.status >= 500 || error.status === 429;
        if (transient && attempt < SEND_TRIES) {
          setTimeout(function () { deliver(sent, attempt + 1, renewed); },
                     1000 * Math.pow(2, attempt - 1));
          return;
        }
        notSent(sent, error);
      });
  }

  function notSent(sent, error) {
    note(sent.item, "");
    var retry = make("button", "pigeon-chat-note pigeon-chat-retry",
      "Not sent" + (error.message ? ": " + error.message : "") + ". Retry");
    retry.type = "button";
    retry.addEventListener("click", function () {
      sent.item.removeChild(retry);
      deliver(sent, 1, false);
    });
    sent.item.appendChild(retry);
  }

  // --- polling ---------------------------------------------------------------------------

  function delay() {
    if (failures) return Math.min(POLL_OPEN * Math.pow(2, failures), POLL_MAX);
    if (document.hidden) return POLL_HIDDEN;
    return open ? POLL_OPEN : POLL_CLOSED;
  }

  function schedule(ms) {
    clearTimeout(timer);
    timer = setTimeout(poll, ms);
  }

  function poll() {
    if (!token) return;  // nothing to read until the visitor writes
    if (polling) { schedule(delay()); return; }
    polling = true;
    call("GET", "messages?after=" + lastId)
      .then(function (data) {
        polling = false;
        failures = 0;
        status.textContent = "";
        data.messages.forEach(show);
        firstLoad = false;
        schedule(data.more ? 0 : delay());
      })
      .catch(function (error) {
        polling = false;
        if (error.status === 401) { forget(); return; }
        failures += 1;
        if (failures > 2) status.textContent = "Reconnecting\u2026";
        schedule(delay());
      });
  }

  // --- the server ------------------------------------------------------------------------

  function call(method, path, body) {
    var headers = {};
    if (token) headers.Authorization = "Bearer " + token;
    if (body) headers["Content-Type"] = "application/json";
    return fetch(API + path, {
      method: method,
      headers: headers,
      body: body ? JSON.stringify(body) : undefined,
      mode: "cors",
      credentials: "omit",
      cache: "no-store",
    }).then(function (answer) {
      return answer.json().catch(function () { return {}; }).then(function (data) {
        if (answer.ok) return data;
        var error = new Error(data.error || "error " + answer.status);
        error.status = answer.status;
        throw error;
      });
    });
  }

  function withToken() {
    if (token) return Promise.resolve(token);
    if (!sessionAsked) {
      sessionAsked = call("POST", "session").then(function (data) {
        token = data.token;
        save(token);
        return token;
      }).finally(function () { sessionAsked = null; });
    }
    return sessionAsked;
  }

  function forget() {
    token = null;
    lastId = 0;
    save(null);
  }

  function load() {
    try { return window.localStorage.getItem(STORAGE_KEY); } catch (e) { return null; }
  }

  function save(value) {
    try {
      if (value) window.localStorage.setItem(STORAGE_KEY, value);
      else window.localStorage.removeItem(STORAGE_KEY);
    } catch (e) { /* storage blocked: the conversation lasts as long as the page */ }
  }

  function newId() {
    var bytes = new Uint8Array(16);
    window.crypto.getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) {
      return ("0" + b.toString(16)).slice(-2);
    }).join("");
  }

  if (token) schedule(0);  // a returning visitor: their conversation so far
})();
