// On the sign-in code page: tells the server whether this browser can make a passkey with the
// device's own screen lock, so that only such a browser is offered one after the code.
(() => {
  var field = document.querySelector('[data-passkey-capable]');
  var check = window.PublicKeyCredential?.isUserVerifyingPlatformAuthenticatorAvailable;
  if (!field || !check) return;
  check.call(window.PublicKeyCredential).then(
    (available) => {
      if (available) field.value = 'yes';
    },
    () => {},
  );
})();
