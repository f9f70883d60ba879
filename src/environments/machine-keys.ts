import ssh2 from 'ssh2';
import { createSealedBox } from '../shared/sealed-box.ts';

export type MachineKeys = {
  client: { publicKey: string; privateKey: string };
  host: { publicKey: string; privateKey: string };
};

/**
 * Per environment: the key FairyID signs in with, and the machine's own host key. FairyID makes
 * the host key too, so the first connection already knows whom to expect (no trust on first use)
 * and a machine rebuilt by start presents the same key.
 */
export function generateMachineKeys(environmentId: string): MachineKeys {
  return { client: sshKeyPair(`fairyid-${environmentId}`), host: sshKeyPair(`host-${environmentId}`) };
}

/**
 * An ed25519 pair in OpenSSH format. ssh2 writes a pair that it cannot read back about once in 256
 * (mscdex/ssh2#1513); such a pair would break the login or the host-key pin for good, so it is
 * made again until both halves parse.
 */
export function sshKeyPair(comment: string): { publicKey: string; privateKey: string } {
  for (;;) {
    const keys = ssh2.utils.generateKeyPairSync('ed25519', { comment });
    if ([keys.public, keys.private].some((key) => ssh2.utils.parseKey(key) instanceof Error)) continue;
    return { publicKey: keys.public.trim(), privateKey: keys.private };
  }
}

/** Private halves at rest: sealed under KEYS_SECRET and bound to the environment and the key's role. */
export function createMachineKeySeal(secrets: string | readonly string[]) {
  const box = createSealedBox(secrets, 'environment-ssh-keys');
  return {
    seal: (environmentId: string, role: 'client' | 'host', privateKey: string) =>
      box.seal(`${environmentId}:${role}`, privateKey),
    open: (environmentId: string, role: 'client' | 'host', sealed: string) =>
      box.open(`${environmentId}:${role}`, sealed),
  };
}

export type MachineKeySeal = ReturnType<typeof createMachineKeySeal>;
