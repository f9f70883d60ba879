// On a phone the account sections scroll sideways (views/assets/fairyid.css, .account-nav): bring the
// current one into the middle, so a person sees where they are. Without this script they start at
// the first section, and the page's heading still says where they are.
(() => {
  const current = document.querySelector('.account-nav [aria-current="page"]');
  const list = current?.closest('ul');
  if (!current || !list || list.scrollWidth <= list.clientWidth) return;
  // The list is the link's offsetParent (position: relative), so offsetLeft is within the list.
  list.scrollLeft = current.offsetLeft - (list.clientWidth - current.offsetWidth) / 2;
})();
