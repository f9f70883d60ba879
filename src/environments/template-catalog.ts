import type { Db } from '../db/database.ts';
import { createEnvironmentRepository } from './environment.repository.ts';
import type { EnvironmentTemplateRow } from './environment.table.ts';
import { loadTemplates } from './template.ts';

/**
 * Templates live as YAML files in the repository and are copied into the database when the server
 * starts and when an operator runs `npm run cli -- templates reload`, so every instance offers the
 * same set without a restart. A template whose file is gone is retired: no longer offered, still
 * known to the environments made from it.
 */
export function createTemplateCatalog(db: Db, dir: string) {
  const repo = createEnvironmentRepository(db);
  return {
    dir,
    /** Validates every file first: one bad file changes nothing and names every problem. */
    async reload(now = new Date()) {
      const templates = await loadTemplates(dir);
      await db.transaction().execute(async (trx) => {
        const tx = createEnvironmentRepository(trx);
        for (const template of templates) {
          await tx.upsertTemplate({
            id: template.id,
            name: template.name,
            description: template.description,
            image: template.image,
            default_tier: template.default_tier,
            user_data: JSON.stringify(template.user_data),
            retired: false,
            updated_at: now,
          });
        }
        await tx.retireTemplatesExcept(
          templates.map((template) => template.id),
          now,
        );
      });
      return templates;
    },

    async offered(): Promise<EnvironmentTemplateRow[]> {
      return (await repo.listTemplates()).filter((template) => !template.retired);
    },

    find: (id: string) => repo.findTemplate(id),
  };
}

export type TemplateCatalog = ReturnType<typeof createTemplateCatalog>;
