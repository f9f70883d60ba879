// Passkey buttons on the sign-in, second-step and account pages. Each block marked `data-passkey`
// names its endpoints in data- attributes; this script fetches options there, runs the browser's
// WebAuthn ceremony through SimpleWebAuthn, posts the result back and follows `redirectTo`.
// Loaded from our own origin only: the pages' CSP allows no inline script.
(() => {
  if (window.fairyidPasskeys) return; // two partials on one page load this twice
  window.fairyidPasskeys = true;
  var webauthn = window.SimpleWebAuthnBrowser;

  // The words for the browser's refusals come from the block's data-word-* attributes
  // (views/partials-passkey-words.eta), in the page's language.
  var BROWSER_ERRORS = {
    NotAllowedError: 'wordNotAllowed',
    InvalidStateError: 'wordInvalidState',
    SecurityError: 'wordSecurity',
    NotSupportedError: 'wordNotSupported',
    AbortError: 'wordAbort',
  };

  function ServerError(data, status) {
    this.description = data?.error_description;
    this.data = data || {};
    this.status = status;
  }

  function post(url, token, body) {
    return fetch(url, {
      method: 'POST',
      credentials: 'same-origin',
      headers: { 'Content-Type': 'application/json', Accept: 'application/json', 'X-CSRF-Token': token },
      body: JSON.stringify(body || {}),
    }).then((response) =>
      response
        .json()
        .catch(() => ({}))
        .then((data) => {
          if (!response.ok) throw new ServerError(data, response.status);
          return data;
        }),
    );
  }

  function messageFor(block, error) {
    var words = block.dataset;
    if (error instanceof ServerError) return error.description || words.wordGeneric;
    var name = error && (error.cause?.name ? error.cause.name : error.name);
    return words[BROWSER_ERRORS[name]] || words.wordGeneric;
  }

  function setup(block) {
    var kind = block.getAttribute('data-passkey');
    var token = block.getAttribute('data-csrf') || document.querySelector('meta[name="csrf-token"]')?.content || '';
    var optionsUrl = block.getAttribute('data-options-url');
    var verifyUrl = block.getAttribute('data-verify-url');
    var alert = block.querySelector('[role="alert"]');
    var button = block.querySelector('[data-passkey-start]');
    var nameInputId = block.getAttribute('data-name-input');
    // The second step's "Remember this browser" box, wherever it sits on the page.
    var rememberInputId = block.getAttribute('data-remember-input');
    function remembered() {
      var box = rememberInputId && document.getElementById(rememberInputId);
      return box?.checked ? { remember: true } : {};
    }

    function show(message) {
      alert.textContent = message;
      alert.hidden = false;
    }
    function clear() {
      alert.hidden = true;
      alert.textContent = '';
    }
    function fail(error) {
      if (error instanceof ServerError && error.data.redirectTo) {
        window.location.assign(error.data.redirectTo);
        return;
      }
      show(messageFor(block, error));
    }
    function finish(data) {
      window.location.assign(data.redirectTo);
    }

    function ceremony(autofill) {
      return post(optionsUrl, token).then((optionsJSON) => {
        if (kind === 'register') {
          return webauthn.startRegistration({ optionsJSON: optionsJSON }).then((credential) => {
            var name = nameInputId ? document.getElementById(nameInputId).value : undefined;
            return post(verifyUrl, token, { credential: credential, name: name || undefined });
          });
        }
        return webauthn
          .startAuthentication({ optionsJSON: optionsJSON, useBrowserAutofill: autofill })
          .then((credential) => post(verifyUrl, token, { credential: credential, ...remembered() }));
      });
    }

    button.addEventListener('click', () => {
      clear();
      button.disabled = true;
      ceremony(false).then(finish, (error) => {
        button.disabled = false;
        fail(error);
      });
    });
    block.hidden = false;

    // Conditional UI: the browser offers passkeys in the identifier field's autofill. Nobody asked
    // for this request, so the browser's refusals (a click on the button cancels it; an address
    // where passkeys cannot work) stay quiet; the server's answer to a passkey picked there does not.
    if (block.getAttribute('data-autofill') === 'true') {
      webauthn.browserSupportsWebAuthnAutofill().then((available) => {
        if (!available) return;
        ceremony(true).then(finish, (error) => {
          if (error instanceof ServerError) fail(error);
        });
      });
    }
  }

  function start() {
    if (!webauthn?.browserSupportsWebAuthn()) return;
    document.querySelectorAll('[data-passkey-unsupported]').forEach((note) => {
      note.hidden = true;
    });
    document.querySelectorAll('[data-passkey]').forEach(setup);
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
  else start();
})();
