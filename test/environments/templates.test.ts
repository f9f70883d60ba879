import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { parse } from 'yaml';
import { renderCloudConfig } from '../../src/environments/cloud-config.ts';
import { generateMachineKeys } from '../../src/environments/machine-keys.ts';
import { loadTemplates } from '../../src/environments/template.ts';
import { runCli } from '../helpers/cli-process.ts';
import { createTestDatabase } from '../helpers/database.ts';

const ROOT = new URL('../../', import.meta.url);

test('the repository’s templates are valid: Node 24, Python 3.12, Go and blank Debian, each with tmux for devpocket', async (t) => {
  const templates = await loadTemplates(new URL('templates/', ROOT).pathname);
  t.deepEqual(
    templates.map((template) => template.id),
    ['debian', 'go', 'node', 'python'],
  );
  for (const template of templates) {
    const files = template.user_data.write_files ?? [];
    t.true(
      files.some((file) => file.path === '/home/devpocket/.tmux.conf' && file.defer === true),
      template.id,
    );
    t.true(template.user_data.packages?.includes('tmux'), template.id);
    t.true(
      (template.user_data.runcmd ?? []).some((command) => JSON.stringify(command).includes('tmux new-session')),
      template.id,
    );
  }
  t.regex(templates.find((template) => template.id === 'python')!.user_data.packages!.join(' '), /python3\.12/);
});

test('invalid templates are refused with every problem named by file and field', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'fairyid-templates-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  await writeFile(
    join(dir, 'bad.yaml'),
    'name: Bad\ndescription: x\nimage: debian-12-x64\ndefault_tier: huge\nuser_data:\n  users: []\n  runcmd: [3]\n',
  );
  await writeFile(join(dir, 'broken.yaml'), 'name: [unclosed\n');
  await writeFile(join(dir, 'Upper Case.yaml'), 'name: x\n');
  const error = await t.throwsAsync(loadTemplates(dir));
  t.regex(error.message, /bad\.yaml: default_tier: /);
  t.regex(error.message, /bad\.yaml: user_data\.users: is set by FairyID/);
  t.regex(error.message, /bad\.yaml: user_data\.runcmd\.0: /);
  t.regex(error.message, /broken\.yaml: not valid YAML \(line \d+\)/);
  t.regex(error.message, /Upper Case\.yaml: the file name must be/);
});

test('the rendered cloud-config carries the user and key, the pinned host key, phone_home, the /home volume', async (t) => {
  const [template] = (await loadTemplates(new URL('templates/', ROOT).pathname)).filter((one) => one.id === 'node');
  const keys = generateMachineKeys('env-1');
  const text = renderCloudConfig({
    parts: template!.user_data,
    clientPublicKey: keys.client.publicKey,
    hostPrivateKey: keys.host.privateKey,
    hostPublicKey: keys.host.publicKey,
    phoneHomeUrl: 'https://id.example.com/environments/phone-home/secret',
    volumeName: 'fairyid-env-1',
  });
  t.true(text.startsWith('#cloud-config\n'));
  const doc = parse(text);
  t.deepEqual(doc.users[0].name, 'devpocket');
  t.deepEqual(doc.users[0].ssh_authorized_keys, [keys.client.publicKey]);
  t.is(doc.ssh_keys.ed25519_public, keys.host.publicKey);
  t.is(doc.ssh_keys.ed25519_private, keys.host.privateKey);
  t.is(doc.disable_root, true);
  t.is(doc.phone_home.url, 'https://id.example.com/environments/phone-home/secret');
  t.true(doc.phone_home.post.includes('pub_key_ed25519'));
  t.deepEqual(doc.mounts[0].slice(0, 2), ['/dev/disk/by-id/scsi-0DO_Volume_fairyid-env-1', '/home']);
  t.is(doc.fs_setup[0].overwrite, false, 'a volume with files is never formatted again');
  t.deepEqual(doc.packages, template!.user_data.packages);
});

test('the operator reloads templates with the CLI; a removed file is no longer offered', async (t) => {
  const database = await createTestDatabase({ persisted: true });
  const dir = await mkdtemp(join(tmpdir(), 'fairyid-templates-'));
  t.teardown(async () => {
    await database.drop();
    await rm(dir, { recursive: true, force: true });
  });
  const one = 'description: d\nimage: debian-12-x64\ndefault_tier: free\nuser_data: {}\n';
  await writeFile(join(dir, 'alpha.yaml'), `name: Alpha\n${one}`);
  const env = { ...database.env, TEMPLATES_DIR: dir };
  const first = await runCli(env, ['templates', 'reload']);
  t.is(first.code, 0, first.stderr);
  t.regex(first.stdout, /Loaded 1 environment templates/);

  await writeFile(join(dir, 'beta.yaml'), `name: Beta\n${one}`);
  await rm(join(dir, 'alpha.yaml'));
  t.is((await runCli(env, ['templates', 'reload'])).code, 0);
  const listed = await runCli(env, ['templates', 'list']);
  t.is(listed.stdout.trim().split('\n').length, 1);
  t.regex(listed.stdout, /^beta\tBeta/);

  await writeFile(join(dir, 'gamma.yaml'), 'name: Gamma\n');
  const refused = await runCli(env, ['templates', 'reload']);
  t.is(refused.code, 1);
  t.regex(refused.stderr, /gamma\.yaml: description: /);
});
