import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse as parseYaml, YAMLParseError } from 'yaml';
import { z } from 'zod';
import { TIERS } from '../config.ts';
import { deepFrozen } from '../shared/deep-frozen.ts';

/** The account cloud-config creates on every machine; templates set up its home and tmux. */
export const MACHINE_USER = 'devpocket';

// Keys FairyID writes itself (cloud-config.ts): a template setting them would fight the renderer.
const RESERVED = ['users', 'ssh_keys', 'phone_home', 'disable_root', 'mounts', 'fs_setup', 'ssh_pwauth'];

const writeFile = z
  .object({
    path: z.string().regex(/^\/[^\0]*$/, 'must be an absolute path'),
    content: z.string(),
    permissions: z
      .string()
      .regex(/^0[0-7]{3,4}$/, "must be an octal mode in quotes, such as '0644'")
      .optional(),
    owner: z
      .string()
      .regex(/^[a-z_][a-z0-9_-]*(:[a-z_][a-z0-9_-]*)?$/, 'must be user or user:group')
      .optional(),
    append: z.boolean().optional(),
    // cloud-init writes deferred files after the users exist, which files under /home/devpocket need.
    defer: z.boolean().optional(),
  })
  .strict();

const userDataShape = {
  package_update: z.boolean().optional(),
  package_upgrade: z.boolean().optional(),
  packages: z.array(z.string().regex(/^[a-z0-9][a-z0-9+.-]*$/, 'must be a Debian package name')).optional(),
  write_files: z.array(writeFile).optional(),
  runcmd: z.array(z.union([z.string().min(1), z.array(z.string()).min(1)])).optional(),
  timezone: z.string().optional(),
  locale: z.string().optional(),
};
const ALLOWED = Object.keys(userDataShape);

// Unknown keys pass the schema and are refused by `keyProblems`, which also runs when a field is
// invalid (a zod refinement would not), so one pass names them all.
const userData = z.object(userDataShape).loose();

function keyProblems(raw: unknown): string[] {
  const value = (raw as { user_data?: unknown } | null)?.user_data;
  if (!value || typeof value !== 'object' || Array.isArray(value)) return [];
  return Object.keys(value).flatMap((key) =>
    RESERVED.includes(key)
      ? [`user_data.${key}: is set by FairyID and cannot be in a template`]
      : ALLOWED.includes(key)
        ? []
        : [`user_data.${key}: is not one of ${ALLOWED.join(', ')}`],
  );
}

const templateSchema = z
  .object({
    name: z.string().trim().min(1).max(60),
    description: z.string().trim().min(1).max(300),
    image: z.string().regex(/^[a-z0-9][a-z0-9.-]*$/, 'must be an image slug such as debian-12-x64'),
    default_tier: z.enum(TIERS),
    user_data: userData,
  })
  .strict();

export type CloudConfigParts = z.output<typeof userData>;
export type EnvironmentTemplate = z.output<typeof templateSchema> & { id: string };

export class TemplateError extends Error {
  override name = 'TemplateError';
}

export const TEMPLATE_ID = /^[a-z0-9][a-z0-9-]{0,38}$/;

/**
 * A template file's YAML, parsed once per process for each text seen: every server start reloads
 * the catalog, and the YAML parser was most of that (about 8 ms of CPU per start, paid by each of
 * the test suite's hundreds of servers). Frozen, as every later reader of that text shares it;
 * validation below still runs each time and copies what it keeps. A text that fails is not kept.
 */
const parsedTexts = new Map<string, unknown>();

function parsedYaml(text: string): unknown {
  if (!parsedTexts.has(text)) parsedTexts.set(text, deepFrozen(parseYaml(text)));
  return parsedTexts.get(text);
}

/**
 * Reads and validates every `*.yaml` in `dir`. Every problem in every file is reported at once,
 * each as `file: path.to.field: what is wrong`, so an operator fixes them in one pass.
 */
export async function loadTemplates(dir: string): Promise<EnvironmentTemplate[]> {
  let files: string[];
  try {
    files = (await readdir(dir)).filter((file) => file.endsWith('.yaml')).sort();
  } catch (error) {
    throw new TemplateError(`Environment templates: cannot read ${dir}: ${(error as Error).message}`);
  }
  const problems: string[] = [];
  const templates: EnvironmentTemplate[] = [];
  for (const file of files) {
    const id = file.slice(0, -'.yaml'.length);
    if (!TEMPLATE_ID.test(id)) {
      problems.push(`${file}: the file name must be lowercase letters, digits and dashes (it is the template id)`);
      continue;
    }
    let raw: unknown;
    try {
      raw = parsedYaml(await readFile(join(dir, file), 'utf8'));
    } catch (error) {
      const where = error instanceof YAMLParseError && error.linePos ? ` (line ${error.linePos[0].line})` : '';
      problems.push(`${file}: not valid YAML${where}: ${(error as Error).message.split('\n')[0]}`);
      continue;
    }
    const parsed = templateSchema.safeParse(raw);
    const keys = keyProblems(raw).map((problem) => `${file}: ${problem}`);
    problems.push(...keys);
    if (!parsed.success) {
      for (const issue of parsed.error.issues)
        problems.push(`${file}: ${issue.path.length ? issue.path.join('.') : '(top level)'}: ${issue.message}`);
      continue;
    }
    if (keys.length) continue;
    templates.push({ id, ...parsed.data });
  }
  if (!files.length) problems.push('no *.yaml files');
  if (problems.length)
    throw new TemplateError(`Environment templates in ${dir} are not valid:\n  ${problems.join('\n  ')}`);
  return templates;
}
