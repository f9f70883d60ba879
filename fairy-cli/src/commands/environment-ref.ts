import type { Api } from '../api.ts';
import { CliError, EXIT } from '../exit-codes.ts';

export type Environment = {
  id: string;
  name: string;
  owner: { type?: string; id?: string; name?: string | null } & Record<string, unknown>;
  template: string;
  tier: string;
  region: string;
  state: string;
  desired_state: string;
  ssh: { host: string; port: number; user: string } | null;
  last_error: string | null;
  stop_reason: string | null;
  price_per_hour: number;
  cost_since_start: number;
  balance: number;
  created_at: string;
};

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** An environment named on the command line by id, or by name when exactly one has it. */
export async function environmentId(api: Api, reference: string): Promise<string> {
  if (UUID.test(reference)) return reference;
  const named = (await api.all<Environment>('/api/environments')).filter(
    (environment) => environment.name === reference && environment.state !== 'deleted',
  );
  if (named.length === 0) throw new CliError(`No environment named "${reference}"; see fairy env list.`, EXIT.notFound);
  if (named.length > 1) {
    throw new CliError(
      `${named.length} environments are named "${reference}"; name one by its id (fairy env list).`,
      EXIT.usage,
    );
  }
  return (named[0] as Environment).id;
}
