import type { Api } from '../api.ts';
import { CliError, EXIT } from '../exit-codes.ts';

export type Organization = {
  id: string;
  slug: string;
  name: string;
  status: string;
  status_reason: string | null;
  role: string;
  created_at: string;
};

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** An organization named on the command line by slug (as people know it) or id (as scripts may). */
export async function organizationId(api: Api, reference: string): Promise<string> {
  if (UUID.test(reference)) return reference;
  const found = (await api.all<Organization>('/api/organizations')).find((org) => org.slug === reference);
  if (!found) throw new CliError(`You belong to no organization "${reference}"; see fairy orgs.`, EXIT.notFound);
  return found.id;
}
