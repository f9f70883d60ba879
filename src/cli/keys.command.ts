import type { CliContext } from './context.ts';
import { UsageError } from './usage-error.ts';

export async function runKeysCommand({ keys, print }: CliContext, [action, kid]: string[]) {
  switch (action) {
    case 'list': {
      const rows = await keys.list();
      for (const row of rows) {
        const state = row.retired_at ? `retired ${row.retired_at.toISOString()}` : 'published';
        print(`${row.kid}  ${row.alg.padEnd(6)}  created ${row.created_at.toISOString()}  ${state}`);
      }
      return;
    }
    case 'rotate': {
      const kids = await keys.rotate();
      print(`Added signing keys ${kids.join(', ')}. New tokens use them within seconds on every instance;`);
      print('older keys stay published until `keys retire`, so tokens they signed keep verifying.');
      return;
    }
    case 'retire': {
      const retired = await keys.retire(kid);
      print(
        retired.length
          ? `Retired ${retired.join(', ')}.`
          : 'Nothing to retire: only the newest key of each algorithm is published.',
      );
      return;
    }
    default:
      throw new UsageError('Usage: keys list | keys rotate | keys retire [kid]');
  }
}
