import { generateKeyPairSync } from 'node:crypto';
import test from 'ava';
import Provider, { type Adapter, type AdapterPayload } from 'oidc-provider';
import { findClientsByMetadataIdentity } from '../../src/oidc/client-lookup.ts';

type Client = { clientId: string; redirectUris: string[] };

/** A provider whose dynamic clients come from `stored`, handed out as the same object until replaced, as our cache does. */
function providerWith(stored: Map<string, AdapterPayload>, staticClients: AdapterPayload[] = []) {
  // Only clients are looked up here: no other model's method is ever called.
  class ClientAdapter {
    private readonly model: string;

    constructor(model: string) {
      this.model = model;
    }
    async find(id: string) {
      return this.model === 'Client' ? stored.get(id) : undefined;
    }
  }
  const provider = new Provider('http://127.0.0.1:1', {
    adapter: ClientAdapter as unknown as new (model: string) => Adapter,
    clients: staticClients as never,
    jwks: {
      keys: [
        { ...generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'jwk' }), alg: 'ES256' },
      ],
    } as never,
    features: { devInteractions: { enabled: false } },
  });
  findClientsByMetadataIdentity(provider);
  return provider;
}

const metadata = (clientId: string, redirect: string): AdapterPayload => ({
  client_id: clientId,
  client_secret: 'a-secret-long-enough-for-the-provider',
  redirect_uris: [redirect],
  id_token_signed_response_alg: 'ES256',
});

test('a client is found again from the same metadata, and built anew when its metadata changes', async (t) => {
  const stored = new Map([['app', metadata('app', 'https://app.example/one')]]);
  const provider = providerWith(stored);
  const first = (await provider.Client.find('app')) as unknown as Client;
  t.deepEqual(first.redirectUris, ['https://app.example/one']);
  t.is((await provider.Client.find('app')) as unknown as Client, first);

  stored.set('app', metadata('app', 'https://app.example/two'));
  const changed = (await provider.Client.find('app')) as unknown as Client;
  t.not(changed, first);
  t.deepEqual(changed.redirectUris, ['https://app.example/two']);

  stored.delete('app');
  t.is(await provider.Client.find('app'), undefined);
  t.is(await provider.Client.find(''), undefined);
});

test('a statically configured client keeps its precedence over stored metadata of the same id', async (t) => {
  const stored = new Map([['fixed', metadata('fixed', 'https://stored.example/cb')]]);
  const provider = providerWith(stored, [metadata('fixed', 'https://static.example/cb')]);
  for (let round = 0; round < 2; round += 1) {
    const client = (await provider.Client.find('fixed')) as unknown as Client;
    t.deepEqual(client.redirectUris, ['https://static.example/cb']);
  }
});
