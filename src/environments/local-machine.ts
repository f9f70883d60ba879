// One "machine" on this computer: a real OpenSSH server configured from the same #cloud-config a
// DigitalOcean droplet receives, so the local driver and the DigitalOcean stand-in exercise the
// rendered cloud-config instead of a parallel description of it.
//
// As root each machine gets a private mount namespace in which its volume folder is bind-mounted at
// /home, exactly where a droplet mounts its volume: the cloud-config's user (e.g. `devpocket`) has
// the ordinary home /home/<user> in /etc/passwd, and every machine sees its own files there, so
// several machines with the same user name run side by side. Without root it serves the current
// user, whose session is moved into the volume's home folder by a forced command.

import { type ChildProcess, execFile, spawn, spawnSync } from 'node:child_process';
import { constants as fsConstants, readdirSync, readlinkSync } from 'node:fs';
import {
  access,
  appendFile,
  chmod,
  chown,
  mkdir,
  mkdtemp,
  open,
  readdir,
  readFile,
  readlink,
  rm,
  writeFile,
} from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { delimiter, dirname, join, posix, relative } from 'node:path';
import { promisify } from 'node:util';
import { gunzipSync } from 'node:zlib';
import { parse as parseYaml } from 'yaml';
import { CLOUD_INIT_OUTPUT_LOG } from './driver.ts';

const run = promisify(execFile);

export class LocalMachineError extends Error {
  override name = 'LocalMachineError';
}

export const SSHD_MISSING_MESSAGE =
  "OpenSSH's sshd was not found (looked at /usr/sbin/sshd and on PATH): install Debian's openssh-server package " +
  '(apt-get install openssh-server) to use local environments';

/** Where sshd lives: /usr/sbin/sshd (Debian's openssh-server) or the first `sshd` on PATH. */
export async function findSshd(explicit?: string): Promise<string> {
  const candidates = explicit
    ? [explicit]
    : ['/usr/sbin/sshd', ...(process.env.PATH ?? '').split(delimiter).map((dir) => join(dir, 'sshd'))];
  for (const candidate of candidates) {
    if (!candidate.startsWith('/')) continue;
    try {
      await access(candidate, fsConstants.X_OK);
      return candidate;
    } catch {}
  }
  throw new LocalMachineError(SSHD_MISSING_MESSAGE);
}

// The cloud-config keys this emulation applies, or can ignore without changing what the person gets
// (passwords are always off here, host names are reported through phone_home only).
const APPLIED = new Set(['users', 'ssh_keys', 'write_files', 'runcmd', 'phone_home']);
const HARMLESS = new Set([
  'ssh_pwauth',
  'disable_root',
  'ssh_deletekeys',
  'ssh_genkeytypes',
  'preserve_hostname',
  'manage_etc_hosts',
  'hostname',
  'fqdn',
  'prefer_fqdn_over_hostname',
  'final_message',
]);

interface CloudUser {
  name: string;
  shell?: string;
  ssh_authorized_keys?: string[];
  sudo?: unknown;
  groups?: unknown;
}

interface WriteFile {
  path: string;
  content?: string;
  encoding?: string;
  permissions?: string | number;
  owner?: string;
  append?: boolean;
  defer?: boolean;
}

export interface CloudConfig {
  users: CloudUser[];
  sshKeys: Record<string, string>;
  writeFiles: WriteFile[];
  runcmd: (string | string[])[];
  phoneHome?: { url: string; post: string[]; tries: number };
  hostname?: string;
  fqdn?: string;
  /** Parts this emulation does not apply, in words for the person reading them. */
  warnings: string[];
}

const PHONE_HOME_ALL = ['pub_key_rsa', 'pub_key_ecdsa', 'pub_key_ed25519', 'instance_id', 'hostname', 'fqdn'];

/** Parses a `#cloud-config` document and lists what a local machine cannot apply. */
export function parseCloudConfig(userData: string): CloudConfig {
  if (!userData.startsWith('#cloud-config')) {
    throw new LocalMachineError('user data must be a #cloud-config document');
  }
  const doc = (parseYaml(userData) ?? {}) as Record<string, unknown>;
  if (typeof doc !== 'object' || Array.isArray(doc)) throw new LocalMachineError('#cloud-config must be a mapping');
  const warnings: string[] = [];
  // The volume is /home here, so mounting it there (and formatting it) is what already happens.
  const mounts = (doc.mounts as unknown[][] | undefined) ?? [];
  const onlyHome = mounts.length > 0 && mounts.every((entry) => Array.isArray(entry) && entry[1] === '/home');
  for (const key of Object.keys(doc)) {
    if (APPLIED.has(key) || HARMLESS.has(key)) continue;
    if (onlyHome && (key === 'mounts' || key === 'fs_setup')) continue;
    warnings.push(`\`${key}\` is not applied on a local machine`);
  }

  const users: CloudUser[] = [];
  for (const entry of (doc.users as unknown[] | undefined) ?? []) {
    if (entry === 'default') {
      warnings.push("the image's default user is not created on a local machine");
      continue;
    }
    if (typeof entry !== 'object' || entry === null || typeof (entry as CloudUser).name !== 'string') {
      throw new LocalMachineError('every entry of users must be "default" or have a name');
    }
    const user = entry as CloudUser;
    if (!/^[a-z_][a-z0-9_-]{0,31}$/.test(user.name)) throw new LocalMachineError(`bad user name: ${user.name}`);
    if (user.sudo !== undefined && user.sudo !== false) warnings.push(`sudo rights for ${user.name} are not granted`);
    if (user.groups !== undefined) warnings.push(`supplementary groups for ${user.name} are not applied`);
    users.push(user);
  }

  const sshKeys: Record<string, string> = {};
  for (const [key, value] of Object.entries((doc.ssh_keys as Record<string, unknown> | undefined) ?? {})) {
    if (typeof value === 'string' && /^(rsa|ecdsa|ed25519)_(private|public)$/.test(key)) sshKeys[key] = value;
    else warnings.push(`ssh_keys.${key} is not applied`);
  }

  const writeFiles = ((doc.write_files as WriteFile[] | undefined) ?? []).map((file) => {
    if (typeof file?.path !== 'string' || !file.path.startsWith('/')) {
      throw new LocalMachineError('every write_files entry needs an absolute path');
    }
    return file;
  });
  const runcmd = ((doc.runcmd as unknown[] | undefined) ?? []).map((command) => {
    if (typeof command === 'string') return command;
    if (Array.isArray(command)) return command.map(String);
    throw new LocalMachineError('every runcmd entry must be a string or a list');
  });

  let phoneHome: CloudConfig['phoneHome'];
  const ph = doc.phone_home as { url?: unknown; post?: unknown; tries?: unknown } | undefined;
  if (ph) {
    if (typeof ph.url !== 'string') throw new LocalMachineError('phone_home needs a url');
    // cloud-init: `post` is a list of keys or the string "all"; `tries` defaults to 10.
    const post = ph.post === undefined || ph.post === 'all' ? PHONE_HOME_ALL : (ph.post as unknown[]).map(String);
    const tries = Number.parseInt(String(ph.tries ?? 10), 10);
    phoneHome = { url: ph.url, post, tries: Number.isFinite(tries) && tries > 0 ? tries : 10 };
  }
  const hostname = typeof doc.hostname === 'string' ? doc.hostname : undefined;
  const fqdn = typeof doc.fqdn === 'string' ? doc.fqdn : undefined;
  return { users, sshKeys, writeFiles, runcmd, phoneHome, hostname, fqdn, warnings };
}

export interface LocalMachineOptions {
  /** The `#cloud-config` user data, as cloud-init would read it. */
  cloudConfig: string;
  host: string;
  port: number;
  /** The "volume": mounted at /home as root, the home folders' parent otherwise. Kept by `stop`. */
  volumeDir: string;
  /** sshd_config, host keys, pid file and logs; a temporary folder (removed on stop) when absent. */
  runDir?: string;
  /** The sshd binary; found at /usr/sbin/sshd or on PATH when absent. */
  sshd?: string;
  /** cloud-init's instance id (a droplet's id); reported by phone_home. */
  instanceId: string;
  /** The hostname when the cloud-config names none (cloud-init falls back to the provider's name). */
  hostname: string;
  /** Replaces `phone_home.url` (e.g. when the rendered URL names a host this machine cannot reach). */
  phoneHomeUrl?: string;
  /** cloud-init waits 3 s between phone_home tries. */
  phoneHomeIntervalMs?: number;
  /** How long sshd may take to accept connections before the start counts as failed. */
  startTimeoutMs?: number;
  log?: (line: string) => void;
}

export interface LocalMachine {
  readonly host: string;
  readonly port: number;
  /** The Linux user SSH logs in as: the cloud-config's user as root, the current user otherwise. */
  readonly user: string;
  /** The host key lines (OpenSSH public format) sshd presents, as phone_home reports them. */
  readonly hostPublicKeys: Record<string, string>;
  /** What this machine does not apply; runcmd and phone_home failures are appended as they happen. */
  readonly warnings: string[];
  /** Settles once runcmd has run and phone_home has been tried (cloud-init's final stage). */
  readonly finished: Promise<void>;
  /**
   * Where an SSH session on this machine finds runcmd's output, as cloud-init's output log:
   * /var/log/cloud-init-output.log as root (the machine's own /var/log), the run folder otherwise.
   */
  readonly outputLog: string;
  /** True while sshd runs. */
  running(): boolean;
  /** Stops sshd and every process of the machine's sessions; keeps the volume. Safe to repeat. */
  stop(): Promise<void>;
}

/** An empty mount point on the host; each machine's namespace mounts its own run folder there. */
const INNER_RUN_DIR = '/run/fairyid-machine';

const isRoot = () => process.getuid?.() === 0;

/** Starts the machine; resolves once sshd accepts connections (runcmd and phone_home go on after). */
export async function startLocalMachine(options: LocalMachineOptions): Promise<LocalMachine> {
  const log = options.log ?? (() => {});
  const sshd = await findSshd(options.sshd);
  const config = parseCloudConfig(options.cloudConfig);
  const warnings = [...config.warnings];
  const root = isRoot();
  const ownRunDir = !options.runDir;
  const runDir = options.runDir ?? (await mkdtemp(join(tmpdir(), 'fairyid-machine-')));
  await mkdir(runDir, { recursive: true, mode: 0o700 });
  await reapStale(runDir, root);
  await mkdir(options.volumeDir, { recursive: true });
  // The volume is /home inside the machine: it must be traversable by its users, like /home is.
  await chmod(options.volumeDir, 0o755);

  const primary = config.users[0];
  if (!primary) throw new LocalMachineError('the cloud-config creates no user to log in as');
  if (!root && config.users.length > 1) {
    warnings.push(`only ${primary.name} is served without root; the other users are not created`);
  }
  const loginUser = root ? primary.name : userInfo().username;
  const served = root ? config.users : [primary];

  // Users and their homes, with cloud-init's own placement of authorized keys.
  const accounts = new Map<string, { uid: number; gid: number; home: string; hostHome: string; shell: string }>();
  for (const user of served) {
    const account = root ? await ensureLinuxUser(user, options.volumeDir) : currentAccount(user, options.volumeDir);
    accounts.set(user.name, account);
    await mkdir(account.hostHome, { recursive: true, mode: 0o755 });
    if (root) await chown(account.hostHome, account.uid, account.gid);
    const keys = [...(user.ssh_authorized_keys ?? [])];
    const keyFile = root ? join(account.hostHome, '.ssh', 'authorized_keys') : join(runDir, 'authorized_keys');
    await mergeAuthorizedKeys(keyFile, keys, root ? account : undefined);
  }

  // Host keys: the cloud-config's own (so clients can pin them from the first connection), or
  // generated like cloud-init does when none are given.
  const hostKeyFiles: string[] = [];
  const hostPublicKeys: Record<string, string> = {};
  const types = ['ed25519', 'ecdsa', 'rsa'].filter((type) => config.sshKeys[`${type}_private`]);
  if (types.length === 0) {
    const file = join(runDir, 'ssh_host_ed25519_key');
    await rm(file, { force: true });
    await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', file]);
    hostKeyFiles.push(file);
    hostPublicKeys.pub_key_ed25519 = await readFile(`${file}.pub`, 'utf8');
  }
  for (const type of types) {
    const file = join(runDir, `ssh_host_${type}_key`);
    await writeFile(file, ensureNewline(config.sshKeys[`${type}_private`] ?? ''), { mode: 0o600 });
    await chmod(file, 0o600);
    const given = config.sshKeys[`${type}_public`];
    // cloud-init writes a given public key verbatim and phone_home posts the file, so it is sent as given.
    hostPublicKeys[`pub_key_${type}`] = given ?? (await run('ssh-keygen', ['-y', '-f', file])).stdout;
    hostKeyFiles.push(file);
  }

  // write_files: only under /home (the volume). Writing the host's /etc for a development machine
  // would change this computer for every other process, so those paths are reported instead.
  for (const file of config.writeFiles) {
    const target = homePath(file.path, options.volumeDir);
    if (!target) {
      warnings.push(`write_files ${file.path} is outside /home and is not written on a local machine`);
      continue;
    }
    await writeCloudFile(file, target, root, warnings);
  }

  const tmuxWorks = await tmuxVersion();
  if (!tmuxWorks) warnings.push('tmux is not installed on this computer: terminal sessions will not persist');

  // Without root the session is moved into the volume's home by a forced command, since sshd
  // always starts sessions in the passwd home of the (only) user it can serve.
  const primaryAccount = accounts.get(primary.name);
  if (!primaryAccount) throw new LocalMachineError('the primary user has no account');
  const forceCommand = join(runDir, 'session.sh');
  if (!root) {
    await writeFile(
      forceCommand,
      [
        '#!/bin/sh',
        `HOME=${shellQuote(primaryAccount.hostHome)}; export HOME`,
        `TMUX_TMPDIR=${shellQuote(join(runDir, 'tmp'))}; export TMUX_TMPDIR`,
        'cd "$HOME" || exit 1',
        'if [ -n "$SSH_ORIGINAL_COMMAND" ]; then exec /bin/sh -c "$SSH_ORIGINAL_COMMAND"; fi',
        'exec "$SHELL" -l',
        '',
      ].join('\n'),
      { mode: 0o755 },
    );
  }

  // The machine's own /tmp: tmux keeps its socket there (/tmp/tmux-<uid>), and machines that share
  // a user name must not share a tmux server.
  const tmpDir = join(runDir, 'tmp');
  await mkdir(tmpDir, { recursive: true });
  await chmod(tmpDir, 0o1777);
  // The machine's own /var/log (as root, mounted over the host's in its namespace): cloud-init's
  // output log is read over SSH at the path a droplet has it, and never lands in this computer's logs.
  const logDir = join(runDir, 'log');
  await mkdir(logDir, { recursive: true, mode: 0o755 });
  const outputLog = join(logDir, 'cloud-init-output.log');
  await writeFile(outputLog, '', { mode: 0o644 });
  // Paths as sshd sees them: inside the namespace the run folder is reached at INNER_RUN_DIR, since
  // it may itself live under the /tmp that the machine's own /tmp hides.
  const inner = (file: string) => (root ? join(INNER_RUN_DIR, relative(runDir, file)) : file);
  const pidFile = join(runDir, 'sshd.pid');
  const configFile = join(runDir, 'sshd_config');
  if (root) await mkdir(INNER_RUN_DIR, { recursive: true, mode: 0o755 });
  const lines = [
    `ListenAddress ${options.host.includes(':') ? `[${options.host}]` : options.host}:${options.port}`,
    ...hostKeyFiles.map((file) => `HostKey ${inner(file)}`),
    `PidFile ${inner(pidFile)}`,
    // Keys only: no PAM, no passwords, no keyboard-interactive prompts.
    'UsePAM no',
    'PasswordAuthentication no',
    'KbdInteractiveAuthentication no',
    'PubkeyAuthentication yes',
    'PermitRootLogin no',
    `AllowUsers ${served.map((user) => (root ? user.name : loginUser)).join(' ')}`,
    // As root the keys sit in the user's own ~/.ssh like on a droplet, so sshd's ownership checks
    // hold; without root they live in the run folder, whose parents this code does not control.
    root ? 'AuthorizedKeysFile .ssh/authorized_keys' : `AuthorizedKeysFile ${join(runDir, 'authorized_keys')}`,
    `StrictModes ${root ? 'yes' : 'no'}`,
    'PrintMotd no',
    'X11Forwarding no',
    'AcceptEnv LANG LC_*',
    'Subsystem sftp internal-sftp',
    ...(root ? [] : [`ForceCommand ${forceCommand}`]),
    '',
  ];
  await writeFile(configFile, lines.join('\n'), { mode: 0o600 });
  // sshd's privilege separation needs this directory when run as root (Debian creates it at boot).
  if (root) await mkdir('/run/sshd', { recursive: true, mode: 0o755 });

  const command = root
    ? [
        'unshare',
        '--mount',
        '--propagation',
        'private',
        '--',
        '/bin/sh',
        '-c',
        `mount --bind "$0" /home && mount --bind "$1" ${INNER_RUN_DIR} && mount --bind ${INNER_RUN_DIR}/tmp /tmp && mount --bind ${INNER_RUN_DIR}/log /var/log && shift && exec "$@"`,
        options.volumeDir,
        runDir,
        sshd,
        '-D',
        '-e',
        '-f',
        inner(configFile),
      ]
    : [sshd, '-D', '-e', '-f', configFile];
  const child = spawn(command[0] as string, command.slice(1), { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4000);
    log(chunk.toString().trimEnd());
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  // 'close' comes after 'exit' once stderr is drained: only then does a failed start's message say why.
  // Listened for from the spawn on, since it may fire in the same tick as 'exit'.
  const closed = new Promise<void>((resolve) => child.once('close', () => resolve()));
  let alive = true;
  child.once('exit', () => {
    alive = false;
  });
  const spawnError = new Promise<never>((_, reject) => child.once('error', reject));
  spawnError.catch(() => {});

  const children = new Set<ChildProcess>();
  let stopping = false;
  // Held once sshd runs: right after spawn the child may still be unshare in this namespace.
  let namespace: HeldNamespace | undefined;

  const stop = async () => {
    stopping = true;
    for (const helper of children) helper.kill('SIGKILL');
    if (alive) {
      child.kill('SIGTERM');
      await exited;
    }
    // A stopped machine keeps nothing running: sessions, tmux servers and runcmd leftovers live in
    // the machine's own mount namespace, which identifies them even though the user is shared.
    const held = namespace;
    namespace = undefined;
    if (held) await killNamespace(held);
    // Without root there is no namespace; the machine's tmux server is found by its own socket folder.
    if (!root) await run('tmux', ['kill-server'], { env: { ...process.env, TMUX_TMPDIR: tmpDir } }).catch(() => {});
    unregister();
    if (ownRunDir) await rm(runDir, { recursive: true, force: true });
  };
  const unregister = onProcessExit(() => {
    child.kill('SIGKILL');
    if (namespace) killNamespaceSync(namespace.id);
    if (!root) spawnSync('tmux', ['kill-server'], { env: { ...process.env, TMUX_TMPDIR: tmpDir }, stdio: 'ignore' });
  });

  try {
    await Promise.race([
      spawnError,
      closed.then(() => {
        throw new LocalMachineError(`sshd exited while starting: ${stderr.trim() || 'no output'}`);
      }),
      waitForSsh(options.host, options.port, options.startTimeoutMs ?? 20_000),
    ]);
    if (root && child.pid) namespace = await holdNamespace(child.pid);
  } catch (error) {
    await stop();
    throw error instanceof LocalMachineError ? error : new LocalMachineError(`sshd did not start: ${String(error)}`);
  }

  const runAsUser = (script: string, outputFile?: string): Promise<{ code: number; output: string }> => {
    const env = {
      // Debian's root PATH: nsenter and runuser live in /usr/sbin; the user's script sees it too.
      PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
      HOME: root ? `/home/${primary.name}` : primaryAccount.hostHome,
      USER: loginUser,
      LOGNAME: loginUser,
      SHELL: primaryAccount.shell,
      LANG: process.env.LANG ?? 'C.UTF-8',
      ...(root ? {} : { TMUX_TMPDIR: tmpDir }),
    };
    const argv =
      root && child.pid
        ? [
            'nsenter',
            `--mount=/proc/${child.pid}/ns/mnt`,
            '--',
            'runuser',
            '-u',
            primary.name,
            '--',
            '/bin/sh',
            '-c',
            script,
          ]
        : ['/bin/sh', '-c', script];
    return new Promise((resolve) => {
      const helper = spawn(argv[0] as string, argv.slice(1), {
        env,
        cwd: root ? '/' : primaryAccount.hostHome,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      children.add(helper);
      let output = '';
      // Appended as it comes, like cloud-init's log, so a reader over SSH sees a long runcmd progress.
      let written = Promise.resolve();
      const collect = (chunk: Buffer) => {
        output = (output + chunk.toString()).slice(-4000);
        if (outputFile) written = written.then(() => appendFile(outputFile, chunk)).catch(() => {});
      };
      helper.stdout?.on('data', collect);
      helper.stderr?.on('data', collect);
      helper.once('error', (error) => {
        children.delete(helper);
        resolve({ code: -1, output: String(error) });
      });
      // 'exit', not 'close': like cloud-init, a background job left holding the output does not hold up
      // the boot; what it prints later still reaches the log.
      helper.once('exit', (code) => {
        children.delete(helper);
        void written.then(() => resolve({ code: code ?? -1, output }));
      });
    });
  };

  const finished = (async () => {
    if (config.runcmd.length > 0) {
      // cloud-init turns runcmd into one shell script (lists quoted word by word) run from the home folder.
      // Its log has stdout and stderr in the order printed: one pipe for both keeps that order.
      const script = [
        'exec 2>&1',
        'cd "$HOME" || exit 1',
        ...config.runcmd.map((entry) => runcmdLine(entry, primary.name, primaryAccount.shell)),
      ].join('\n');
      const result = await runAsUser(script, outputLog);
      if (stopping) return;
      if (result.code !== 0) {
        warnings.push(`runcmd exited with status ${result.code}: ${result.output.trim().slice(-500)}`);
      }
    }
    if (tmuxWorks && !stopping) {
      const probe = await runAsUser('tmux -V');
      if (probe.code !== 0) warnings.push(`tmux does not run for ${loginUser}: ${probe.output.trim()}`);
    }
    if (config.phoneHome && !stopping) {
      const failure = await phoneHome({
        url: options.phoneHomeUrl ?? config.phoneHome.url,
        post: config.phoneHome.post,
        tries: config.phoneHome.tries,
        intervalMs: options.phoneHomeIntervalMs ?? 3000,
        values: {
          ...hostPublicKeys,
          instance_id: options.instanceId,
          hostname: config.hostname ?? options.hostname,
          fqdn: config.fqdn ?? config.hostname ?? options.hostname,
        },
        cancelled: () => stopping,
      });
      if (failure) warnings.push(failure);
    }
  })();

  return {
    host: options.host,
    port: options.port,
    user: loginUser,
    hostPublicKeys,
    warnings,
    finished,
    outputLog: root ? CLOUD_INIT_OUTPUT_LOG : outputLog,
    running: () => alive,
    stop,
  };
}

/**
 * cloud-init's phone_home module: one POST of `application/x-www-form-urlencoded` fields, keys it
 * cannot read sent as "N/A", `$INSTANCE_ID` in the URL replaced, `tries` attempts 3 s apart, any
 * non-2xx answer counted as a failed try. Returns a warning when every try failed.
 */
export async function phoneHome(options: {
  url: string;
  post: string[];
  tries: number;
  intervalMs: number;
  values: Record<string, string>;
  cancelled?: () => boolean;
}): Promise<string | undefined> {
  const url = options.url.replace(/\$\{?INSTANCE_ID\}?/g, options.values.instance_id ?? '');
  const body = new URLSearchParams();
  for (const key of options.post) body.append(key, options.values[key] ?? 'N/A');
  let last = '';
  for (let attempt = 1; attempt <= options.tries; attempt += 1) {
    if (options.cancelled?.()) return undefined;
    try {
      const response = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', 'user-agent': 'Cloud-Init/24.4' },
        body: body.toString(),
        signal: AbortSignal.timeout(30_000),
      });
      await response.arrayBuffer();
      if (response.ok) return undefined;
      last = `HTTP ${response.status}`;
    } catch (error) {
      last = String((error as Error).cause ?? error);
    }
    if (attempt < options.tries) await new Promise((resolve) => setTimeout(resolve, options.intervalMs));
  }
  return `phone_home to ${url} failed after ${options.tries} tries: ${last}`;
}

async function ensureLinuxUser(user: CloudUser, volumeDir: string) {
  const shell = user.shell ?? '/bin/bash';
  // Concurrent machines may create the same user at once; the loser finds it on the next look.
  for (let attempt = 0; ; attempt += 1) {
    const existing = await passwdEntry(user.name);
    if (existing) {
      const [, , uid, gid, , home, loginShell] = existing;
      if (!home?.startsWith('/home/')) {
        throw new LocalMachineError(`the existing user ${user.name} has its home outside /home (${home})`);
      }
      await unlockForKeys(user.name);
      return {
        uid: Number(uid),
        gid: Number(gid),
        home,
        hostHome: join(volumeDir, relative('/home', home)),
        shell: loginShell || shell,
      };
    }
    try {
      // `-p '*'`: no password, but not locked, since sshd without PAM refuses locked accounts even for keys.
      await run('useradd', [
        '--user-group',
        '--no-create-home',
        '--home-dir',
        `/home/${user.name}`,
        '--shell',
        shell,
        '-p',
        '*',
        user.name,
      ]);
    } catch (error) {
      if (attempt >= 5) throw new LocalMachineError(`could not create the user ${user.name}: ${String(error)}`);
      await new Promise((resolve) => setTimeout(resolve, 100 * (attempt + 1)));
    }
  }
}

async function passwdEntry(name: string): Promise<string[] | undefined> {
  try {
    const { stdout } = await run('getent', ['passwd', name]);
    return stdout.trim().split(':');
  } catch {
    return undefined;
  }
}

async function unlockForKeys(name: string) {
  try {
    const { stdout } = await run('getent', ['shadow', name]);
    const hash = stdout.split(':')[1] ?? '';
    if (hash === '!' || hash === '!!' || hash === '!*') await run('usermod', ['-p', '*', name]);
  } catch {}
}

function currentAccount(user: CloudUser, volumeDir: string) {
  const me = userInfo();
  return {
    uid: me.uid,
    gid: me.gid,
    home: join(volumeDir, user.name),
    hostHome: join(volumeDir, user.name),
    shell: me.shell ?? '/bin/sh',
  };
}

/** cloud-init adds the configured keys to the user's authorized_keys and keeps the lines already there. */
async function mergeAuthorizedKeys(file: string, keys: string[], owner?: { uid: number; gid: number }) {
  const existing = await readFile(file, 'utf8').catch(() => '');
  const lines = existing.split('\n').filter((line) => line.trim() !== '');
  for (const key of keys) if (!lines.includes(key.trim())) lines.push(key.trim());
  await mkdir(dirname(file), { recursive: true, mode: 0o700 });
  await writeFile(file, lines.length ? `${lines.join('\n')}\n` : '', { mode: 0o600 });
  if (owner) {
    await chown(dirname(file), owner.uid, owner.gid);
    await chown(file, owner.uid, owner.gid);
  }
}

/** Maps a path under /home into the volume folder; undefined for any other path. */
function homePath(path: string, volumeDir: string): string | undefined {
  const normal = posix.normalize(path);
  if (!normal.startsWith('/home/')) return undefined;
  const inside = normal.slice('/home/'.length);
  if (inside === '' || inside.split('/').includes('..')) return undefined;
  return join(volumeDir, inside);
}

async function writeCloudFile(file: WriteFile, target: string, root: boolean, warnings: string[]) {
  const encoding = (file.encoding ?? 'text').toLowerCase();
  const raw = file.content ?? '';
  let content: Buffer;
  if (['b64', 'base64'].includes(encoding)) content = Buffer.from(raw, 'base64');
  else if (['gz+b64', 'gzip+base64', 'gz+base64', 'gzip+b64'].includes(encoding)) {
    content = gunzipSync(Buffer.from(raw, 'base64'));
  } else if (['gz', 'gzip'].includes(encoding)) content = gunzipSync(Buffer.from(raw, 'binary'));
  else content = Buffer.from(raw, 'utf8');
  // cloud-init's defaults: mode 0644, owner root:root.
  const mode = Number.parseInt(String(file.permissions ?? '0644'), 8);
  const [ownerName = 'root', groupName] = (file.owner ?? 'root:root').split(':');
  let ids: { uid: number; gid: number } | undefined;
  if (root) {
    ids = await ownerIds(ownerName, groupName ?? ownerName);
    if (!ids) warnings.push(`write_files ${file.path}: owner ${file.owner} does not exist; left to root`);
  }
  // Without root every file belongs to the current user, which is the machine's user there.
  const firstCreated = await mkdir(dirname(target), { recursive: true });
  if (ids && firstCreated) await chownCreated(firstCreated, dirname(target), ids);
  if (file.append) await appendFile(target, content);
  else await writeFile(target, content);
  await chmod(target, Number.isFinite(mode) ? mode : 0o644);
  if (ids) await chown(target, ids.uid, ids.gid);
}

/** Folders created for a file belong to the file's owner, so the user can add files beside it. */
async function chownCreated(first: string, last: string, ids: { uid: number; gid: number }) {
  for (let dir = last; dir.length >= first.length; dir = dirname(dir)) {
    await chown(dir, ids.uid, ids.gid);
    if (dir === first) break;
  }
}

async function ownerIds(user: string, group: string) {
  try {
    const uid = Number((await run('id', ['-u', user])).stdout.trim());
    const groupEntry = (await run('getent', ['group', group])).stdout.trim().split(':');
    return { uid, gid: Number(groupEntry[2]) };
  } catch {
    return undefined;
  }
}

async function tmuxVersion(): Promise<boolean> {
  try {
    await run('tmux', ['-V']);
    return true;
  } catch {
    return false;
  }
}

async function namespaceOf(pid: number): Promise<string | undefined> {
  return readlink(`/proc/${pid}/ns/mnt`).catch(() => undefined);
}

// Machines still running in this process. If it exits without stopping them (an uncaught error,
// process.exit in a test worker), they are killed on the way out, since nothing else would.
const exitCleanups = new Set<() => void>();
function onProcessExit(cleanup: () => void): () => void {
  if (exitCleanups.size === 0) process.once('exit', runExitCleanups);
  exitCleanups.add(cleanup);
  return () => {
    exitCleanups.delete(cleanup);
    if (exitCleanups.size === 0) process.off('exit', runExitCleanups);
  };
}
function runExitCleanups() {
  for (const cleanup of exitCleanups) {
    try {
      cleanup();
    } catch {}
  }
}

/**
 * A machine left running by a process that died without stopping it (a crash, SIGKILL) holds its
 * address and sessions; starting the same machine again ends it first. It is recognised by the pid
 * file in its run folder and, to never kill a stranger that reused the pid, by that run folder
 * showing in the process's command line (without root) or mounts (as root).
 */
async function reapStale(runDir: string, root: boolean) {
  const pid = Number((await readFile(join(runDir, 'sshd.pid'), 'utf8').catch(() => '')).trim());
  if (!Number.isInteger(pid) || pid <= 1) return;
  const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
  if (!cmdline.includes('sshd')) return;
  const mine = root
    ? (await readFile(`/proc/${pid}/mountinfo`, 'utf8').catch(() => '')).includes(` ${runDir} ${INNER_RUN_DIR} `)
    : cmdline.includes(join(runDir, 'sshd_config'));
  if (!mine) return;
  const namespace = root ? await holdNamespace(pid) : undefined;
  try {
    process.kill(pid, 'SIGKILL');
  } catch {}
  if (namespace) await killNamespace(namespace);
  if (!root) {
    await run('tmux', ['kill-server'], { env: { ...process.env, TMUX_TMPDIR: join(runDir, 'tmp') } }).catch(() => {});
  }
  await rm(join(runDir, 'sshd.pid'), { force: true });
}

function killNamespaceSync(namespace: string) {
  if (namespace === readlinkSync('/proc/self/ns/mnt')) return;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let link = '';
    try {
      link = readlinkSync(`/proc/${entry}/ns/mnt`);
    } catch {
      continue;
    }
    if (link !== namespace || Number(entry) === process.pid) continue;
    try {
      process.kill(Number(entry), 'SIGKILL');
    } catch {}
  }
}

type HeldNamespace = { id: string; release(): Promise<void> };

/**
 * A mount namespace kept open until its leftovers are killed. Its id is an inode number that the
 * kernel hands out again once the namespace is gone: unheld, a namespace whose last process exited
 * could come back as another machine's, and killing by id would kill that machine.
 */
async function holdNamespace(pid: number): Promise<HeldNamespace | undefined> {
  const handle = await open(`/proc/${pid}/ns/mnt`, 'r').catch(() => undefined);
  if (!handle) return undefined;
  const id = await readlink(`/proc/self/fd/${handle.fd}`).catch(() => undefined);
  if (!id) {
    await handle.close();
    return undefined;
  }
  return { id, release: () => handle.close() };
}

/** Kills every process left in a mount namespace (sessions, tmux servers, runcmd's background jobs). */
async function killNamespace(namespace: HeldNamespace) {
  try {
    // Never this process's own namespace: that would be every process on the computer.
    if (namespace.id !== (await namespaceOf(process.pid))) await killAllIn(namespace.id);
  } finally {
    await namespace.release();
  }
}

async function killAllIn(namespace: string) {
  for (let round = 0; round < 20; round += 1) {
    let found = false;
    for (const entry of await readdir('/proc')) {
      if (!/^\d+$/.test(entry)) continue;
      if ((await namespaceOf(Number(entry))) !== namespace) continue;
      found = true;
      try {
        process.kill(Number(entry), 'SIGKILL');
      } catch {}
    }
    if (!found) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Resolves once something at host:port answers with an SSH banner (RFC 4253 section 4.2). */
async function waitForSsh(host: string, port: number, timeoutMs: number) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await sshBanner(host, port)) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new LocalMachineError(`sshd did not accept connections on ${host}:${port} within ${timeoutMs} ms`);
}

export function sshBanner(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    let data = '';
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(2000, () => done(false));
    socket.once('error', () => done(false));
    socket.on('data', (chunk) => {
      data += chunk.toString('latin1');
      if (data.includes('\n')) done(data.startsWith('SSH-'));
    });
  });
}

/**
 * One line of the runcmd script. cloud-init runs runcmd as root, so templates switch to their user
 * with `su - <user> -c ...`; here the script already runs as that user (never as root, which would
 * change this computer), and su would ask for a password, so that prefix becomes a login shell.
 */
function runcmdLine(entry: string | string[], user: string, shell: string): string {
  if (typeof entry === 'string') {
    const su = entry.match(/^\s*su\s+(?:-|-l|--login)\s+(\S+)\s+-c\s+/);
    return su && su[1] === user ? `${shellQuote(shell)} -l -c ${entry.slice(su[0].length)}` : entry;
  }
  const [command, dash, target, flag, ...rest] = entry;
  if (command === 'su' && ['-', '-l', '--login'].includes(dash ?? '') && target === user && flag === '-c') {
    return [shell, '-l', '-c', ...rest].map(shellQuote).join(' ');
  }
  return entry.map(shellQuote).join(' ');
}

function ensureNewline(text: string) {
  return text.endsWith('\n') ? text : `${text}\n`;
}

function shellQuote(word: string) {
  return `'${word.replaceAll("'", `'\\''`)}'`;
}
