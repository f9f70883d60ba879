// The terminal page: xterm.js over the FairyID terminal protocol (README, "The terminal").
// It keeps the session id and the offset of the last byte it received, so every reconnect resumes
// exactly where it stopped, and numbers its input so a frame resent after a reconnect runs once.
(() => {
  // The page's Content-Security-Policy allows only styles that carry this response's nonce (no
  // 'unsafe-inline'). xterm.js creates <style> elements for its screen, so each gets the nonce; and
  // it colours 24-bit text with setAttribute('style'), which the policy refuses, so that goes through
  // the CSSOM instead (style.cssText), which the policy does not govern. Only this page does this.
  const styleNonce = document.currentScript.nonce;
  const createElement = Document.prototype.createElement;
  Document.prototype.createElement = function createWithNonce(name, options) {
    const element = createElement.call(this, name, options);
    if (String(name).toLowerCase() === 'style') element.nonce = styleNonce;
    return element;
  };
  const setAttribute = Element.prototype.setAttribute;
  Element.prototype.setAttribute = function setStyleThroughCssom(name, value) {
    if (String(name).toLowerCase() !== 'style') return setAttribute.call(this, name, value);
    this.style.cssText = value;
  };

  const app = document.getElementById('terminal-app');
  const environmentId = app.dataset.environment;
  const csrf = app.dataset.csrf;
  const statusLine = document.getElementById('terminal-status');
  const logBox = document.getElementById('terminal-log');
  // The status line's words come from the page, in its language (data-word-* of #terminal-app).
  const words = app.dataset;

  const HEARTBEAT_MS = 5000;
  // Nothing heard for this long (pongs come every HEARTBEAT_MS) means the socket is gone.
  const SILENCE_MS = 10000;
  const KEEP_UNACKED = 512;

  // minimumContrastRatio: xterm adjusts a program's colours (a green prompt on the theme's background)
  // to WCAG AA's 4.5:1, so what the shell prints stays readable in both themes.
  const term = new Terminal({
    cursorBlink: true,
    fontSize: 14,
    scrollback: 5000,
    allowProposedApi: false,
    minimumContrastRatio: 4.5,
  });
  const fit = new FitAddon.FitAddon();
  term.loadAddon(fit);
  term.open(document.getElementById('terminal-screen'));
  fit.fit();

  const inputStream = sessionStorage.getItem(`terminal-input:${environmentId}`) || crypto.randomUUID();
  sessionStorage.setItem(`terminal-input:${environmentId}`, inputStream);
  let session;
  let offset;
  let seq = 0;
  let unacked = [];
  let ws;
  let lastHeard = 0;
  let retryMs = 500;
  let retryTimer;
  let finished = false;
  const modifiers = { ctrl: false, alt: false };

  function status(text, kind) {
    statusLine.textContent = text;
    statusLine.dataset.kind = kind || 'ok';
  }

  function sendInput(text) {
    if (!text) return;
    seq += 1;
    const bytes = new TextEncoder().encode(text);
    const frame = new Uint8Array(4 + bytes.length);
    new DataView(frame.buffer).setUint32(0, seq);
    frame.set(bytes, 4);
    unacked.push({ seq, frame });
    if (unacked.length > KEEP_UNACKED) unacked.shift();
    if (ws && ws.readyState === WebSocket.OPEN && session) ws.send(frame);
  }

  function withModifiers(data) {
    let out = data;
    if (modifiers.ctrl && out.length === 1) {
      const code = out.toUpperCase().charCodeAt(0);
      if (code >= 64 && code <= 95) out = String.fromCharCode(code - 64);
    }
    if (modifiers.alt) out = `\u001b${out}`;
    if (modifiers.ctrl || modifiers.alt) {
      modifiers.ctrl = modifiers.alt = false;
      for (const button of document.querySelectorAll('[data-modifier]')) button.setAttribute('aria-pressed', 'false');
    }
    return out;
  }

  term.onData((data) => sendInput(withModifiers(data)));

  for (const button of document.querySelectorAll('.terminal-keys button')) {
    // Keep the focus (and the phone's keyboard) on the terminal.
    button.addEventListener('mousedown', (event) => event.preventDefault());
    button.addEventListener('click', async () => {
      if (button.dataset.send) sendInput(withModifiers(JSON.parse(`"${button.dataset.send}"`)));
      else if (button.dataset.modifier) {
        const name = button.dataset.modifier;
        modifiers[name] = !modifiers[name];
        button.setAttribute('aria-pressed', String(modifiers[name]));
      } else if (button.dataset.action === 'copy') {
        await navigator.clipboard.writeText(term.getSelection()).catch(() => status(words.wordCopyRefused, 'warn'));
      } else if (button.dataset.action === 'paste') {
        const text = await navigator.clipboard.readText().catch(() => '');
        // Big pastes go in frames under the server's 64 KiB limit.
        for (let i = 0; i < text.length; i += 16000) sendInput(text.slice(i, i + 16000));
      }
      term.focus();
    });
  }

  async function ticket() {
    const response = await fetch(`/account/environments/${environmentId}/terminal/ticket`, {
      method: 'POST',
      headers: { 'x-csrf-token': csrf, 'content-type': 'application/json' },
      body: '{}',
      credentials: 'same-origin',
    });
    const body = await response.json().catch(() => ({}));
    if (!response.ok) throw Object.assign(new Error(body.error_description || ''), { code: body.error });
    return body.url;
  }

  function scheduleReconnect(text) {
    if (finished) return;
    status(text || words.wordReconnecting, 'warn');
    clearTimeout(retryTimer);
    retryTimer = setTimeout(connect, retryMs);
    retryMs = Math.min(retryMs * 2, 10000);
  }

  async function connect() {
    clearTimeout(retryTimer);
    if (ws) {
      ws.onclose = null;
      ws.close();
      ws = undefined;
    }
    let url;
    try {
      url = await ticket();
    } catch (error) {
      if (error.code === 'environment_not_running') {
        showLog();
        return scheduleReconnect(words.wordWaiting);
      }
      return scheduleReconnect(error.message && words.wordReconnectingBecause.replace('{reason}', error.message));
    }
    const socket = new WebSocket(url);
    ws = socket;
    socket.binaryType = 'arraybuffer';
    lastHeard = Date.now();
    socket.onopen = () => {
      const resume = { type: 'resume', input_stream: inputStream, cols: term.cols, rows: term.rows };
      if (session !== undefined) Object.assign(resume, { session, offset });
      socket.send(JSON.stringify(resume));
    };
    socket.onmessage = (event) => {
      lastHeard = Date.now();
      if (typeof event.data !== 'string') {
        const view = new DataView(event.data);
        const at = Number(view.getBigUint64(0));
        const bytes = new Uint8Array(event.data, 8);
        term.write(bytes);
        offset = at + bytes.length;
        return;
      }
      const message = JSON.parse(event.data);
      if (message.type === 'hello') {
        session = message.session;
        offset = message.from;
        retryMs = 500;
        status(words.wordConnected);
        hideLog();
        // Frames the server has not applied go again; it drops any it already has.
        unacked = unacked.filter((entry) => entry.seq > message.input);
        for (const entry of unacked) socket.send(entry.frame);
      } else if (message.type === 'redraw') {
        term.reset();
        term.write(message.data);
        offset = message.from;
      }
    };
    socket.onclose = (event) => {
      if (ws !== socket) return;
      ws = undefined;
      if (event.code === 4004) {
        showLog();
        return scheduleReconnect(words.wordStopped);
      }
      if (event.code === 4003 || event.code === 4010) {
        finished = true;
        return status(event.reason || words.wordClosed, 'error');
      }
      scheduleReconnect();
    };
  }

  // Phones drop background sockets without a close event: a silent heartbeat means reconnect.
  setInterval(() => {
    if (!ws || ws.readyState !== WebSocket.OPEN) return;
    if (Date.now() - lastHeard > SILENCE_MS) return scheduleReconnect();
    ws.send(JSON.stringify({ type: 'ping', t: Date.now() }));
  }, HEARTBEAT_MS);

  function checkNow() {
    if (finished) return;
    if (!ws || ws.readyState !== WebSocket.OPEN || Date.now() - lastHeard > SILENCE_MS) {
      retryMs = 500;
      return void connect();
    }
    ws.send(JSON.stringify({ type: 'ping', t: Date.now() }));
  }
  document.addEventListener('visibilitychange', () => {
    if (document.visibilityState === 'visible') checkNow();
  });
  window.addEventListener('pageshow', (event) => {
    if (event.persisted) checkNow();
  });
  window.addEventListener('online', checkNow);

  function resize() {
    fit.fit();
    if (ws && ws.readyState === WebSocket.OPEN && session)
      ws.send(JSON.stringify({ type: 'resize', cols: term.cols, rows: term.rows }));
  }
  window.addEventListener('resize', resize);
  if (window.visualViewport) window.visualViewport.addEventListener('resize', resize);

  // The provisioning log (Server-Sent Events) while the machine starts: the trail's steps with their
  // time, and the machine's cloud-init output (kind machine_output) as it printed it.
  let logSource;
  function showLog() {
    logBox.hidden = false;
    if (logSource) return;
    // A new stream replays the whole trail.
    logBox.textContent = '';
    logSource = new EventSource(`/account/environments/${environmentId}/logs`);
    logSource.onmessage = (event) => {
      const entry = JSON.parse(event.data);
      const time = entry.kind !== 'machine_output' && entry.at ? `${entry.at.slice(11, 19)} ` : '';
      logBox.textContent += `${time}${entry.message}\n`;
      logBox.scrollTop = logBox.scrollHeight;
    };
  }
  function hideLog() {
    logBox.hidden = true;
    if (logSource) logSource.close();
    logSource = undefined;
  }

  if (app.dataset.state !== 'running') showLog();
  connect();
  term.focus();
})();
