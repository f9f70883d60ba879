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
    // The words come from the page, in its language (data- attributes of the actions block).
    var words = block.dataset;
    // Today's date as the page's language writes it (Intl in the browser, like the server's pages).
    var today = new Intl.DateTimeFormat(document.documentElement.lang || undefined, { dateStyle: 'long' }).format(
      new Date(),
    );
    var text = [words.fileHeading.replace('{host}', window.location.host), words.fileNote, '']
      .concat(codes.map((code, index) => `${(index + 1 < 10 ? ' ' : '') + (index + 1)}. ${code}`))
      .concat(['', words.fileMade.replace('{date}', today)])
      .join('\n');

    function say(message) {
      status.textContent = message;
    }

    var actions = {
      copy() {
        if (!navigator.clipboard) return say(words.wordCannotCopy);
        navigator.clipboard.writeText(`${text}\n`).then(
          () => say(words.wordCopied),
          () => say(words.wordCopyRefused),
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
        say(words.wordDownloaded);
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
