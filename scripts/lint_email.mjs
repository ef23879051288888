// Lint an email's HTML against the caniemail support data for Gmail, Outlook and Apple Mail.
// Setup once (npm registry, then offline): npm install --prefix build/tools @jsx-email/doiuse-email
// Usage: node scripts/lint_email.mjs build/demo/digest.html
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { resolve } from 'node:path';

const require = createRequire(resolve('build/tools/package.json'));
const { doIUseEmail } = require('@jsx-email/doiuse-email');
const html = readFileSync(process.argv[2] ?? 'build/demo/digest.html', 'utf8');
const result = doIUseEmail(html, { emailClients: ['gmail.*', 'outlook.*', 'apple-mail.*'] });
const tally = (lines) => Object.entries(lines.reduce((n, l) => ({ ...n, [l]: (n[l] ?? 0) + 1 }), {}));
console.log(`errors (unsupported somewhere): ${(result.errors ?? []).length}`);
for (const [line, n] of tally(result.errors ?? [])) console.log(`  ${n} x ${line}`);
console.log(`notes (partial support): ${(result.notes ?? []).length}`);
