// "Copy all", "Download .txt" and "Print" for the backup codes page (views/partials-backup-codes.eta).
// Served from our own origin: the pages' CSP allows no inline script. Without JavaScript the buttons
// stay hidden and the codes can still be selected, copied or printed by hand.
(() => {
  function start() {
    var block = document.querySelector('[data-backup-codes]');
    if (!block) return;
    var list = document.getElementById(block.getAttribute('data-backup-codes'));
    var status = document.querySelector('.backup-code-status');
    var codes = Array.prototype.map.call(list.querySelectorAll('code'), (code) => code.textContent.trim());
    var text = [
      `FairyID backup codes for ${window.location.host}`,
      'Each code signs you in once, in place of your second step. Keep them somewhere safe.',
      '',
    ]
      .concat(codes.map((code, index) => `${(index + 1 < 10 ? ' ' : '') + (index + 1)}. ${code}`))
      .concat(['', `Made ${new Date().toISOString().slice(0, 10)}`])
      .join('\n');

    function say(message) {
      status.textContent = message;
    }

    var actions = {
      copy() {
        if (!navigator.clipboard) return say('This browser cannot copy here. Select the codes and copy them instead.');
        navigator.clipboard.writeText(`${text}\n`).then(
          () => say(`Copied ${codes.length} codes. Paste them somewhere safe.`),
          () => say('The browser did not allow copying. Select the codes and copy them instead.'),
        );
      },
      download() {
        var url = URL.createObjectURL(new Blob([`${text}\n`], { type: 'text/plain' }));
        var link = document.createElement('a');
        link.href = url;
        link.download = 'fairyid-backup-codes.txt';
        document.body.appendChild(link);
        link.click();
        link.remove();
        setTimeout(() => URL.revokeObjectURL(url), 1000);
        say('Downloaded fairyid-backup-codes.txt.');
      },
      print() {
        window.print();
      },
    };

    block.querySelectorAll('[data-backup-action]').forEach((button) => {
      button.addEventListener('click', () => actions[button.getAttribute('data-backup-action')]());
    });
    block.hidden = false;
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
  else start();
})();
