import type { KeyValueStore } from '../db/key-value.ts';

const TTL_SECONDS = 600;

/** A code sign-in held back while the person is offered a passkey: who, and by which channel. */
export type HeldSignIn = { accountId: string; channel: 'email' | 'sms' };

/**
 * "Sign in faster next time: create a passkey", between a code sign-in and the app. The sign-in is
 * held here, keyed by the interaction, until the person creates a passkey or says "Not now"; only
 * one of those can take it.
 */
export function createPasskeyOffer(kv: KeyValueStore) {
  const key = (uid: string) => `passkey-offer:${uid}`;
  return {
    async hold(uid: string, held: HeldSignIn): Promise<void> {
      await kv.write([{ op: 'set', key: key(uid), value: JSON.stringify(held), ttlSeconds: TTL_SECONDS }]);
    },
    async peek(uid: string): Promise<HeldSignIn | undefined> {
      const value = await kv.get(key(uid));
      return value ? (JSON.parse(value) as HeldSignIn) : undefined;
    },
    async take(uid: string): Promise<HeldSignIn | undefined> {
      const value = await kv.get(key(uid));
      if (!value || (await kv.del(key(uid))) !== 1) return undefined;
      return JSON.parse(value) as HeldSignIn;
    },
  };
}

export type PasskeyOffer = ReturnType<typeof createPasskeyOffer>;
