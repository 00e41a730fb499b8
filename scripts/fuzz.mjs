#!/usr/bin/env node
/**
 * `npm run fuzz`: the model-based test of the session machine (session-model.spec.ts) with many
 * more sequences than CI runs, from a random seed unless one is given. Prints the seed first; a
 * failure prints the seed, the path and the shrunk command list to replay it with.
 *
 *   npm run fuzz                          20,000 sequences, random seed
 *   npm run fuzz -- --runs 100000 --seed 42
 *   npm run fuzz -- --seed 42 --path 1759:0:3 --replay LRu:F    replays one failure (as printed)
 *   npm run fuzz -- --tolerate '#1,#5,codes'                  counts those violations, fails on the rest
 *   npm run fuzz -- --max-commands 60
 *
 * Flags may also come from the environment: JOT_MODEL_RUNS, JOT_MODEL_SEED, JOT_MODEL_PATH,
 * JOT_MODEL_REPLAY, JOT_MODEL_TOLERATE, JOT_MODEL_MAX_COMMANDS.
 */
import { spawnSync } from 'node:child_process';

const flags = {
  '--runs': 'JOT_MODEL_RUNS',
  '--seed': 'JOT_MODEL_SEED',
  '--path': 'JOT_MODEL_PATH',
  '--replay': 'JOT_MODEL_REPLAY',
  '--tolerate': 'JOT_MODEL_TOLERATE',
  '--max-commands': 'JOT_MODEL_MAX_COMMANDS',
};
const env = { ...process.env };
const args = process.argv.slice(2);
for (let i = 0; i < args.length; i++) {
  const [flag, inline] = args[i].split('=', 2);
  const name = flags[flag];
  if (!name) {
    console.error(`fuzz: unknown argument ${args[i]}. Known: ${Object.keys(flags).join(', ')} (each takes a value).`);
    process.exit(2);
  }
  const value = inline ?? args[++i];
  if (value === undefined) {
    console.error(`fuzz: ${flag} needs a value.`);
    process.exit(2);
  }
  env[name] = value;
}
env.JOT_MODEL_RUNS ||= '20000';
env.JOT_MODEL_SEED ||= String(Math.floor(Math.random() * 2 ** 31));
console.log(`fuzz: ${env.JOT_MODEL_RUNS} sequences, seed ${env.JOT_MODEL_SEED}`);

const result = spawnSync(
  'npx',
  ['jest', '--runInBand', '--selectProjects', 'ngx-jot', '--testPathPatterns', 'session-model\\.spec\\.ts$'],
  { stdio: 'inherit', env },
);
process.exit(result.status ?? 1);
