#!/usr/bin/env node
// Quick schema-only check of catalogue YAML files (the full check is `brickyard validate`).
// Usage: node scripts/schema-check.mjs <recipe|block|bases|system> FILE...
import { readFileSync, readdirSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { parse } from 'yaml';
const dir = join(dirname(fileURLToPath(import.meta.url)), '..', 'pipeline', 'schemas');
const ajv = new Ajv2020({ allErrors: true, strict: true, strictRequired: false, allowUnionTypes: true });
addFormats.default(ajv);
for (const f of readdirSync(dir)) ajv.addSchema(JSON.parse(readFileSync(join(dir, f), 'utf8')));
const [kind, ...files] = process.argv.slice(2);
const validate = ajv.getSchema(`https://brickyard.dev/schemas/${kind}.schema.json`);
let bad = 0;
for (const f of files) {
  const ok = validate(parse(readFileSync(f, 'utf8')));
  if (!ok) {
    bad++;
    for (const e of validate.errors) console.log(`${f}: ${e.instancePath || '/'} ${e.message} ${JSON.stringify(e.params)}`);
  } else console.log(`${f}: ok`);
}
process.exit(bad ? 1 : 0);
