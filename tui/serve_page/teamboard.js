// teamboard serve's page script: connect, keep the connection alive, come back by itself.
//
// textual-serve's client (textual.js) builds the terminal and opens the websocket when the page
// loads; when the socket closes it shows nothing more. This script, loaded after it:
//  - points the terminal at this server's websocket, with the page's token (the URL's ?token=);
//  - waits (3 s at most) for the local Roboto Mono, so the cells are measured in the right font;
//  - pings every few seconds, and counts a connection that stays silent as lost (a network blip
//    can leave a socket open that nothing travels through);
//  - when the connection is lost, dims the last picture under a notice and polls /health with
//    backoff (0.5 s doubling to 10 s, with jitter; the count survives reloads), then reloads;
//  - offers window.teamboard.text(): the screen as text (tests read it; so may a human).
(function () {
  "use strict";
  const PING_MS = 5000;
  const SILENT_MS = 15000;
  const STEADY_MS = 30000; // connected this long: the backoff starts again from the bottom
  const BASE_MS = 500;
  const MAX_MS = 10000;
  const TRIES = "teamboard-reconnects";

  const params = new URLSearchParams(location.search);
  const token = params.get("token") || "";
  const query = token ? "?token=" + encodeURIComponent(token) : "";
  const tb = {
    session: null,
    socket: null,
    lastHeard: 0,
    lost: false,
    lostAt: "",
    tries: Number(sessionStorage.getItem(TRIES) || 0),
    reconnects: 0,
  };
  window.teamboard = tb;

  tb.text = function () {
    if (!tb.session) return "";
    const buffer = tb.session.terminal.buffer.active;
    const rows = [];
    for (let y = 0; y < buffer.length; y++) {
      const line = buffer.getLine(y);
      rows.push(line ? line.translateToString(true) : "");
    }
    return rows.join("\n");
  };

  function show(text) {
    const status = document.getElementById("tb-status");
    if (status) status.textContent = text;
  }

  window.addEventListener("textual-session", function (event) {
    tb.session = event.detail;
  });

  const Native = window.WebSocket;
  class Watched extends Native {
    constructor(url, protocols) {
      super(url, protocols);
      tb.socket = this;
      tb.lastHeard = Date.now();
      this.addEventListener("open", () => {
        tb.lastHeard = Date.now();
        setTimeout(() => {
          if (tb.socket === this && this.readyState === Native.OPEN && !tb.lost) {
            tb.tries = 0;
            sessionStorage.removeItem(TRIES);
          }
        }, STEADY_MS);
      });
      this.addEventListener("message", () => {
        tb.lastHeard = Date.now();
      });
      this.addEventListener("close", () => lost("Connection lost"));
    }
  }
  window.WebSocket = Watched;

  setInterval(function () {
    const socket = tb.socket;
    if (!socket || tb.lost || socket.readyState !== Native.OPEN) return;
    if (Date.now() - tb.lastHeard > SILENT_MS) {
      lost("No answer from the board");
      try {
        socket.close();
      } catch (e) {
        /* it is gone either way */
      }
      return;
    }
    socket.send(JSON.stringify(["ping", String(Date.now())]));
  }, PING_MS);

  function lost(why) {
    if (tb.lost) return;
    tb.lost = true;
    tb.lostAt = new Date().toTimeString().slice(0, 5); // the picture is as of then
    document.body.classList.add("-lost");
    retry(why);
  }

  function retry(why) {
    const step = Math.min(MAX_MS, BASE_MS * Math.pow(2, Math.min(tb.tries, 10)));
    const delay = step * (0.8 + 0.4 * Math.random());
    tb.tries += 1;
    tb.reconnects += 1;
    sessionStorage.setItem(TRIES, String(tb.tries));
    const when = tb.lostAt ? " (since " + tb.lostAt + ")" : "";
    show(why + when + ": reconnecting in " + Math.ceil(delay / 1000) + " s…");
    setTimeout(attempt, delay);
  }

  async function attempt() {
    show("Reconnecting…");
    let response = null;
    try {
      response = await fetch("/health" + query, { cache: "no-store" });
    } catch (e) {
      response = null;
    }
    if (response && response.ok) {
      location.reload();
    } else if (response && response.status === 403) {
      retry("The board refused this page's token (open the URL `teamboard serve` printed)");
    } else {
      retry(response ? "The board answered " + response.status : "The board cannot be reached");
    }
  }

  const start = window.onload; // textual.js's: it builds the terminal and connects
  window.onload = function (event) {
    const terminal = document.getElementById("terminal");
    const scheme = location.protocol === "https:" ? "wss://" : "ws://";
    terminal.dataset.sessionWebsocketUrl =
      scheme + location.host + "/ws" + (token ? "/" + encodeURIComponent(token) : "");
    const size = Number(params.get("fontsize"));
    if (size >= 6 && size <= 96) terminal.dataset.fontSize = String(size);
    const go = () => {
      if (typeof start === "function") start.call(window, event);
    };
    const font = document.fonts
      ? document.fonts.load(terminal.dataset.fontSize + 'px "Roboto Mono"')
      : Promise.resolve();
    Promise.race([font, new Promise((resolve) => setTimeout(resolve, 3000))]).then(go, go);
  };
})();
