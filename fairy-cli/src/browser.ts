/**
 * Opens `url` in the person's browser when this machine has one to show: always on macOS and
 * Windows, on other systems only with a graphical session (an SSH login to a server has none, and
 * xdg-open would start a text browser inside the terminal or fail). Never fails the login: the
 * printed address and code work from any device.
 */
export async function openBrowser(url: string): Promise<boolean> {
  const graphical =
    process.platform === 'darwin' ||
    process.platform === 'win32' ||
    Boolean(process.env.DISPLAY || process.env.WAYLAND_DISPLAY);
  if (!graphical) return false;
  try {
    const { default: open } = await import('open');
    const child = await open(url);
    child.on('error', () => {});
    return true;
  } catch {
    return false;
  }
}
