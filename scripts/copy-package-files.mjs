// The package ships the repository's README, LICENSE and CHANGELOG (ng-packagr copies nothing
// from outside the project root).
import { copyFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
for (const file of ['README.md', 'LICENSE', 'CHANGELOG.md']) {
  copyFileSync(join(root, file), join(root, 'dist/ngx-jot', file));
}
