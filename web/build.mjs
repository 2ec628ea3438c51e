// build.mjs — bundles the dashboard: src/main.jsx → app.js, src/style.css → app.css
// (minified, ES2020), public/* copied beside them. Usage: node build.mjs --outdir DIR
import * as esbuild from 'esbuild';
import { cpSync, mkdirSync } from 'node:fs';
import { resolve } from 'node:path';

const i = process.argv.indexOf('--outdir');
const outdir = resolve(i > 0 ? process.argv[i + 1] : 'dist');
mkdirSync(outdir, { recursive: true });
await esbuild.build({
  entryPoints: { app: 'src/main.jsx' },
  bundle: true,
  minify: true,
  format: 'esm',
  target: 'es2020',
  jsx: 'automatic',
  jsxImportSource: 'preact',
  outdir,
  logLevel: 'warning',
  legalComments: 'none',
});
await esbuild.build({
  entryPoints: { app: 'src/style.css' },
  bundle: true,
  minify: true,
  outdir,
  logLevel: 'warning',
});
cpSync('public', outdir, { recursive: true });
