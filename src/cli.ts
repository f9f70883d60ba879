import { loadDotEnv } from './config.ts';
import { runCli } from './cli/run.ts';

loadDotEnv();
const code = await runCli(process.argv.slice(2), process.env, {
  out: (text) => console.log(text),
  err: (text) => console.error(text),
});
// Exit at once on a failure, as before: a half-opened storage must not keep the process waiting.
if (code !== 0) process.exit(code);
