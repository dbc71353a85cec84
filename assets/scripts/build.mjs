// Builds the bundle the server embeds: `node scripts/build.mjs OUT_DIR` (npm run build: dist/).
// Deterministic: same sources and lockfile, same bytes (no timestamps, fixed names). index.html
// links each file as /assets/NAME?v=HASH (HASH: the first 16 hex digits of its SHA-256); the
// server caches a matching request as immutable.
import { build } from 'esbuild'
import { createHash } from 'node:crypto'
import { mkdir, readFile, rm, writeFile, copyFile } from 'node:fs/promises'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const out = path.resolve(process.cwd(), process.argv[2] ?? 'dist')

await rm(out, { recursive: true, force: true })
await mkdir(out, { recursive: true })

const common = {
  bundle: true,
  minify: true,
  legalComments: 'none',
  logLevel: 'warning',
  absWorkingDir: root,
  charset: 'utf8',
  target: ['es2022', 'chrome100', 'firefox100', 'safari15.4']
}

await build({
  ...common,
  entryPoints: { app: 'src/main.ts' },
  outdir: out,
  format: 'esm',
  platform: 'browser',
  // y-websocket and lib0 read process.env only in Node; keep them browser-only.
  define: { 'process.env.NODE_ENV': '"production"' }
})
await build({ ...common, entryPoints: { app: 'src/styles.css' }, outdir: out })
await copyFile(path.join(root, 'src/favicon.svg'), path.join(out, 'favicon.svg'))

const version = async (name) =>
  createHash('sha256').update(await readFile(path.join(out, name))).digest('hex').slice(0, 16)

const template = await readFile(path.join(root, 'src/index.html'), 'utf8')
const html = template
  .replaceAll('{{APP_JS}}', `/assets/app.js?v=${await version('app.js')}`)
  .replaceAll('{{APP_CSS}}', `/assets/app.css?v=${await version('app.css')}`)
  .replaceAll('{{FAVICON}}', `/assets/favicon.svg?v=${await version('favicon.svg')}`)
if (html.includes('{{')) throw new Error('index.html: unreplaced placeholder')
await writeFile(path.join(out, 'index.html'), html)
console.log(`built ${path.relative(process.cwd(), out) || '.'}`)
