// The resend button's countdown (views/partials-resend.eta). The server renders the button disabled
// with the seconds left of the resend wait; this counts them down and enables the button at zero.
// Only the label changes each second, so a screen reader is not interrupted by it. The words come
// from the page, in its language: data-label, and data-label-waiting with a {clock} to fill in.
(() => {
  const clock = (seconds) => `${Math.floor(seconds / 60)}:${String(seconds % 60).padStart(2, '0')}`;
  for (const button of document.querySelectorAll('button[data-resend-in]')) {
    const label = button.dataset.label;
    const waiting = button.dataset.labelWaiting;
    const deadline = Date.now() + Number(button.dataset.resendIn) * 1000;
    const tick = () => {
      const left = Math.ceil((deadline - Date.now()) / 1000);
      if (left <= 0) {
        button.disabled = false;
        button.textContent = label;
        return;
      }
      button.textContent = waiting.replace('{clock}', clock(left));
      // The next whole second of the wait, whatever the browser's timer drift.
      setTimeout(tick, deadline - Date.now() - (left - 1) * 1000);
    };
    tick();
  }
})();
