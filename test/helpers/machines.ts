import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ExecutionContext } from 'ava';
import ssh2 from 'ssh2';
import { stringify } from 'yaml';
import { sshKeyPair } from '../../src/environments/machine-keys.ts';

export type KeyPair = { public: string; private: string };

/**
 * An ed25519 pair from ssh2. About 1 in 256 of its pairs cannot be parsed back (it strips a leading
 * zero byte of the public key: mscdex/ssh2#1513), so a pair is kept only once both halves parse.
 */
export const newKeyPair = (comment: string): KeyPair => {
  const { publicKey, privateKey } = sshKeyPair(comment);
  return { public: publicKey, private: privateKey };
};

/** A #cloud-config shaped like the one the environments domain renders for a template. */
export function machineCloudConfig(input: {
  client: KeyPair;
  host: KeyPair;
  phoneHomeUrl: string;
  volumeName: string;
  files?: { path: string; content: string }[];
}): string {
  const device = `/dev/disk/by-id/scsi-0DO_Volume_${input.volumeName}`;
  return `#cloud-config\n${stringify(
    {
      package_update: true,
      packages: ['git', 'tmux'],
      write_files: [
        ...(input.files ?? []).map((file) => ({
          ...file,
          owner: 'devpocket:devpocket',
          permissions: '0644',
          defer: true,
        })),
        { path: '/etc/motd', content: 'a FairyID environment\n' },
      ],
      runcmd: [['su', '-', 'devpocket', '-c', 'tmux has-session -t main 2>/dev/null || tmux new-session -d -s main']],
      disable_root: true,
      ssh_pwauth: false,
      ssh_deletekeys: true,
      ssh_genkeytypes: [],
      ssh_keys: { ed25519_private: input.host.private, ed25519_public: input.host.public },
      fs_setup: [{ label: 'home', filesystem: 'ext4', device, overwrite: false }],
      mounts: [[device, '/home', 'ext4', 'defaults,nofail,discard', '0', '2']],
      users: [
        {
          name: 'devpocket',
          shell: '/bin/bash',
          groups: ['sudo'],
          sudo: 'ALL=(ALL) NOPASSWD:ALL',
          lock_passwd: true,
          ssh_authorized_keys: [input.client.public],
        },
      ],
      phone_home: { url: input.phoneHomeUrl, post: ['pub_key_ed25519', 'instance_id', 'hostname', 'fqdn'], tries: 10 },
    },
    { lineWidth: 0 },
  )}`;
}

export type PhoneHomeCall = { path: string; contentType: string | undefined; fields: Record<string, string> };

/** Receives cloud-init's phone_home POSTs, as FairyID's per-environment URL would. */
export async function startPhoneHomeReceiver(t: ExecutionContext, options: { failFirst?: number } = {}) {
  const calls: PhoneHomeCall[] = [];
  const failed: PhoneHomeCall[] = [];
  let failing = options.failFirst ?? 0;
  const server = createServer(async (req, res) => {
    const body = await readBody(req);
    // A FairyID that is briefly unavailable: cloud-init tries again.
    if (failing > 0) {
      failing -= 1;
      failed.push({ path: req.url ?? '/', contentType: req.headers['content-type'], fields: {} });
      res.writeHead(503).end();
      return;
    }
    calls.push({
      path: req.url ?? '/',
      contentType: req.headers['content-type'],
      fields: Object.fromEntries(new URLSearchParams(body)),
    });
    res.writeHead(200).end('ok');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    calls,
    failed,
    /** Waits for a POST to `path`; the machine posts once sshd is up and runcmd has run. */
    waitFor: (path: string) => until(() => calls.find((call) => call.path === path), `a phone_home POST to ${path}`),
  };
}

/** Polls `check` until it returns something; the limit only catches a hung machine, never a slow one. */
export async function until<T>(check: () => T | undefined | Promise<T | undefined>, what: string, limitMs = 300_000) {
  const deadline = Date.now() + limitMs;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`hung waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/**
 * Runs a command over SSH, accepting only the pinned host key: the machine must present the key
 * FairyID generated (ssh2 hands `hostVerifier` the raw public key blob).
 */
export function sshExec(input: {
  host: string;
  port: number;
  username: string;
  privateKey: string;
  hostPublicKey: string;
  command: string;
}): Promise<{ output: string; code: number | null; presentedHostKey: string }> {
  const pinned = input.hostPublicKey.trim().split(/\s+/)[1];
  let presentedHostKey = '';
  return new Promise((resolve, reject) => {
    const client = new ssh2.Client();
    client
      .on('ready', () => {
        client.exec(input.command, (error, stream) => {
          if (error) {
            client.end();
            return reject(error);
          }
          let output = '';
          stream.on('data', (chunk: Buffer) => {
            output += chunk.toString();
          });
          stream.stderr.on('data', (chunk: Buffer) => {
            output += chunk.toString();
          });
          stream.on('close', (code: number | null) => {
            client.end();
            resolve({ output, code, presentedHostKey });
          });
        });
      })
      .on('error', reject)
      .connect({
        host: input.host,
        port: input.port,
        username: input.username,
        privateKey: input.privateKey,
        // The handshake's limit catches a dead sshd; a loaded machine can take tens of seconds.
        readyTimeout: 120_000,
        hostVerifier: (key: Buffer) => {
          presentedHostKey = key.toString('base64');
          return presentedHostKey === pinned;
        },
      });
  });
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk) => {
      body += chunk;
    });
    req.on('end', () => resolve(body));
    req.on('error', reject);
  });
}
