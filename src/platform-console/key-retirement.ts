/** A signing key as the console shows it, with where it stands in the waiting rule. */
export type KeyState = {
  kid: string;
  alg: string;
  createdAt: Date;
  /**
   * signing: the newest of its algorithm, new tokens use it. waiting: superseded, but tokens it
   * signed may still be in flight. retirable: superseded long enough ago. retired: not published.
   */
  state: 'signing' | 'waiting' | 'retirable' | 'retired';
  /** When a newer key of its algorithm was published, for superseded keys. */
  supersededAt: Date | undefined;
  /** From when it may be retired, for superseded keys. */
  retirableAt: Date | undefined;
  retiredAt: Date | null;
};

type KeyRow = { kid: string; alg: string; created_at: Date; retired_at: Date | null };

/**
 * The waiting rule `keys retire` explains: a key superseded by a newer one of its algorithm still
 * verifies the tokens it signed, so it stays published until the longest token lifetime (plus the
 * time instances take to notice the rotation) has passed since its successor was published. Its
 * successor is the oldest newer published key of the algorithm: from then on nothing new was signed
 * with it.
 */
export function keyStates(rows: readonly KeyRow[], waitSeconds: number, now: number): KeyState[] {
  return rows.map((row) => {
    const base = { kid: row.kid, alg: row.alg, createdAt: row.created_at, retiredAt: row.retired_at };
    if (row.retired_at) return { ...base, state: 'retired', supersededAt: undefined, retirableAt: undefined };
    const newer = rows
      .filter((other) => other.alg === row.alg && !other.retired_at && other.created_at > row.created_at)
      .map((other) => other.created_at.getTime());
    if (!newer.length) return { ...base, state: 'signing', supersededAt: undefined, retirableAt: undefined };
    const supersededAt = Math.min(...newer);
    const retirableAt = supersededAt + waitSeconds * 1000;
    return {
      ...base,
      state: now >= retirableAt ? 'retirable' : 'waiting',
      supersededAt: new Date(supersededAt),
      retirableAt: new Date(retirableAt),
    };
  });
}
