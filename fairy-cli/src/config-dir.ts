import { homedir } from 'node:os';
import { join } from 'node:path';

/**
 * Where fairy keeps its settings and credentials: the XDG Base Directory spec's config home on Linux
 * and other Unixes (`$XDG_CONFIG_HOME`, else ~/.config), Application Support on macOS, %APPDATA% on
 * Windows. `XDG_CONFIG_HOME` is honoured everywhere when set, as most cross-platform CLIs do.
 */
export function configDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.XDG_CONFIG_HOME) return join(env.XDG_CONFIG_HOME, 'fairy');
  if (process.platform === 'darwin') return join(homedir(), 'Library', 'Application Support', 'fairy');
  if (process.platform === 'win32' && env.APPDATA) return join(env.APPDATA, 'fairy');
  return join(homedir(), '.config', 'fairy');
}
