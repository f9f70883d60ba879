import type { CliContext } from './context.ts';
import { UsageError } from './usage-error.ts';

/**
 * `templates reload`: validates every file in TEMPLATES_DIR and copies them into the database, where
 * every running instance reads them; nothing changes if any file is invalid. `templates list` shows
 * what is offered.
 */
export async function runTemplatesCommand({ environmentTemplates, print }: CliContext, [action]: string[]) {
  if (action === 'reload') {
    const templates = await environmentTemplates.reload();
    print(`Loaded ${templates.length} environment templates from ${environmentTemplates.dir}:`);
    for (const template of templates)
      print(`  ${template.id}\t${template.name}\t${template.image}\t${template.default_tier}`);
    return;
  }
  if (action === 'list') {
    for (const template of await environmentTemplates.offered())
      print(`${template.id}\t${template.name}\t${template.image}\t${template.default_tier}`);
    return;
  }
  throw new UsageError('Usage: templates reload | templates list');
}
