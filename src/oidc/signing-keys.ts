import { generateKeyPair } from 'node:crypto';
import { promisify } from 'node:util';
import { calculateJwkThumbprint, type JWK } from 'jose';
import { createKeyEncryption } from './key-encryption.ts';
import type { SigningKeyRepository } from './signing-key.repository.ts';
import { required } from '../shared/required.ts';

const generate = promisify(generateKeyPair);

/** RS256 signs ID tokens by default (the one algorithm every RP supports); ES256 and EdDSA are offered too. */
export const SIGNING_ALGORITHMS = ['RS256', 'ES256', 'EdDSA'] as const;

async function generateJwk(alg: (typeof SIGNING_ALGORITHMS)[number]): Promise<JWK> {
  const pair =
    alg === 'RS256'
      ? await generate('rsa', { modulusLength: 2048 })
      : alg === 'ES256'
        ? await generate('ec', { namedCurve: 'P-256' })
        : await generate('ed25519');
  const jwk = pair.privateKey.export({ format: 'jwk' }) as JWK;
  const { d: _d, p: _p, q: _q, dp: _dp, dq: _dq, qi: _qi, ...publicPart } = jwk;
  return { ...jwk, kid: await calculateJwkThumbprint(publicPart as JWK), alg, use: 'sig' };
}

export function createSigningKeys(repository: SigningKeyRepository, secrets: string | readonly string[]) {
  const sealing = createKeyEncryption(secrets);

  async function addKeySet(): Promise<string[]> {
    const jwks = (await Promise.all(SIGNING_ALGORITHMS.map(generateJwk))).map((jwk) => ({
      jwk,
      // generateJwk sets both.
      kid: required(jwk.kid, 'a new key id'),
      alg: required(jwk.alg, 'a new key algorithm'),
    }));
    await repository.insert(
      jwks.map(({ jwk, kid, alg }) => ({ kid, alg, encrypted_jwk: sealing.encrypt(kid, JSON.stringify(jwk)) })),
    );
    return jwks.map(({ kid }) => kid);
  }

  return {
    /** Private JWKs for oidc-provider, newest first. */
    async loadPublished(): Promise<JWK[]> {
      const rows = await repository.findPublished();
      return rows.map((row) => JSON.parse(sealing.decrypt(row.kid, row.encrypted_jwk)) as JWK);
    },

    /** Identifies the published set cheaply, so instances notice a rotation without decrypting. */
    async fingerprint(): Promise<string> {
      const rows = await repository.findPublished();
      return rows.map((row) => row.kid).join(',');
    },

    async ensureKeys(): Promise<void> {
      const published = await repository.findPublished();
      const missing = SIGNING_ALGORITHMS.filter((alg) => !published.some((row) => row.alg === alg));
      if (missing.length) await addKeySet();
    },

    /** Adds a new key per algorithm; the old ones stay published so tokens they signed still verify. */
    rotate: addKeySet,

    /** With `supersededBefore`, only keys whose successor was published by then (see the repository). */
    retire: (kid?: string, supersededBefore?: Date) => repository.retireSuperseded(kid, supersededBefore),

    list: () => repository.findAll(),
  };
}

export type SigningKeys = ReturnType<typeof createSigningKeys>;
