const REFRESH_MS = 5_000;

/** The origin of a redirect URI, or undefined for one no browser page can have (a custom scheme). */
export function originOf(uri: string): string | undefined {
  const origin = URL.parse(uri)?.origin;
  return origin && origin !== 'null' ? origin : undefined;
}

/**
 * The browser origins allowed cross-origin calls to /api and the token endpoints: those of every
 * registered client's redirect URIs, and CORS_ORIGINS. Kept as a set in memory, so a request pays a
 * lookup: changes made through this process invalidate it at once (the next check reloads it); changes
 * made elsewhere (the CLI, another instance) are picked up by a reload in the background every
 * REFRESH_MS, while requests go on with the set they have.
 */
export function createCorsOrigins(deps: {
  redirectUris(): Promise<string[]>;
  configured: readonly string[];
  refreshMs?: number;
}) {
  const refreshMs = deps.refreshMs ?? REFRESH_MS;
  let origins: ReadonlySet<string> | undefined;
  let loadedAt = 0;
  // Bumped by every local change: a load that began before it is not current.
  let generation = 0;
  let current = -1;
  let loading: Promise<ReadonlySet<string>> | undefined;

  function load(): Promise<ReadonlySet<string>> {
    if (loading) return loading;
    const started = generation;
    loading = deps
      .redirectUris()
      .then((uris) => {
        const set = new Set(deps.configured);
        for (const uri of uris) {
          const origin = originOf(uri);
          if (origin) set.add(origin);
        }
        origins = set;
        current = started;
        return set;
      })
      .finally(() => {
        loadedAt = Date.now();
        loading = undefined;
      });
    return loading;
  }

  return {
    /** Whether a page at `origin` may read our answers. `null` (sandboxed frames, files) never may. */
    async allows(origin: string): Promise<boolean> {
      if (origin === 'null') return false;
      if (!origins || current !== generation) {
        let set = await load();
        // A load already under way when the change was made may have read the table before it.
        if (current !== generation) set = await load();
        return set.has(origin);
      }
      if (Date.now() - loadedAt > refreshMs) load().catch(() => {});
      return origins.has(origin);
    },

    /** A client was registered, changed or removed through this process. */
    invalidate() {
      generation += 1;
    },
  };
}

export type CorsOrigins = ReturnType<typeof createCorsOrigins>;
