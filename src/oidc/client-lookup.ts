import type Provider from 'oidc-provider';

type ClientClass = {
  find(id: string): Promise<object | undefined>;
  readonly adapter: { find(id: string): Promise<object | undefined> };
};

/**
 * oidc-provider's `Client.find` builds a client it does not know from its adapter's metadata, and
 * finds one it has built by a SHA-256 of `JSON.stringify(metadata)`: that serialisation and digest
 * ran on every token request. Our client adapter serves the same metadata object from the client
 * cache (client.repository.ts) until that entry expires or the client changes, and never alters it,
 * so a client built from an object stands for that object: it is found by the object's identity,
 * and oidc-provider's own lookup runs only for an object it has not seen (after every cache refresh,
 * and for every change). A client oidc-provider keeps itself (configured statically) is never
 * remembered here, so those keep their precedence.
 */
export function findClientsByMetadataIdentity(provider: Provider): void {
  const Client = provider.Client as unknown as ClientClass;
  const find = Client.find.bind(Client);
  const built = new WeakMap<object, object>();
  Client.find = async (id) => {
    if (typeof id !== 'string' || !id.length) return undefined;
    const metadata = await Client.adapter.find(id);
    const known = metadata && built.get(metadata);
    if (known) return known;
    const client = await find(id);
    // Static clients are marked noManage by oidc-provider; only adapter-built ones are remembered.
    if (metadata && client && !(client as { noManage?: boolean }).noManage) built.set(metadata, client);
    return client;
  };
}
