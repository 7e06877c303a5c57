// `npm run build`: the pages' CSS and scripts are served as files, next to the compiled code.
import { cpSync } from 'node:fs';
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '..');
cpSync(path.join(root, 'src/web/assets'), path.join(root, 'dist/web/assets'), { recursive: true });
