// Builds the bundle the server embeds: `node scripts/build.mjs OUT_DIR` (npm run build: dist/).
// Deterministic: same sources and lockfile, same bytes (no timestamps, fixed names). index.html
// links each file as /assets/NAME?v=HASH (HASH: the first 16 hex digits of its SHA-256); the
// server caches a matching request as immutable.
import { build } from 'esbuild'
import { createHash } from 'node:crypto'
import { mkdir, readdir, readFile, rm, writeFile, copyFile } from 'node:fs/promises'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const out = path.resolve(process.cwd(), process.argv[2] ?? 'dist')

/** Standard licence texts, for packages that name their licence but ship no licence file. */
const STANDARD_LICENSES = {
  MIT: [
    'Permission is hereby granted, free of charge, to any person obtaining a copy of this software and',
    'associated documentation files (the "Software"), to deal in the Software without restriction,',
    'including without limitation the rights to use, copy, modify, merge, publish, distribute,',
    'sublicense, and/or sell copies of the Software, and to permit persons to whom the Software is',
    'furnished to do so, subject to the following conditions:',
    '',
    'The above copyright notice and this permission notice shall be included in all copies or',
    'substantial portions of the Software.',
    '',
    'THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR IMPLIED, INCLUDING',
    'BUT NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY, FITNESS FOR A PARTICULAR PURPOSE AND',
    'NONINFRINGEMENT. IN NO EVENT SHALL THE AUTHORS OR COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM,',
    'DAMAGES OR OTHER LIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR OTHERWISE, ARISING FROM,',
    'OUT OF OR IN CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS IN THE SOFTWARE.'
  ].join('\n')
}

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

const app = await build({
  ...common,
  metafile: true,
  entryPoints: { app: 'src/main.ts' },
  outdir: out,
  format: 'esm',
  platform: 'browser',
  // y-websocket and lib0 read process.env only in Node; keep them browser-only.
  define: { 'process.env.NODE_ENV': '"production"' }
})
await build({ ...common, entryPoints: { app: 'src/styles.css' }, outdir: out })
await copyFile(path.join(root, 'src/favicon.svg'), path.join(out, 'favicon.svg'))
await writeFile(path.join(out, 'licenses.txt'), await licenseNotices(app.metafile))

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

/**
 * The third-party notices of app.js: every npm package esbuild actually put into the bundle
 * (the inputs of the metafile that contributed bytes to it), with its version, its licence and
 * the text of its licence file(s), sorted by name. Served as /assets/licenses.txt.
 */
async function licenseNotices (metafile) {
  const used = new Set()
  for (const output of Object.values(metafile.outputs)) {
    for (const [input, { bytesInOutput }] of Object.entries(output.inputs)) {
      if (bytesInOutput > 0) used.add(input)
    }
  }
  const packages = new Map()
  const inputsOf = new Map()
  for (const input of used) {
    // node_modules/NAME/... or node_modules/@SCOPE/NAME/... (the innermost node_modules wins).
    const m = input.match(/^(.*node_modules\/)((?:@[^/]+\/)?[^/]+)\//)
    if (!m) continue
    packages.set(m[1] + m[2], m[2])
    inputsOf.set(m[1] + m[2], [...(inputsOf.get(m[1] + m[2]) ?? []), input])
  }
  if (packages.size === 0) throw new Error('licenses: no npm package found in the bundle (metafile changed?)')
  const sections = []
  for (const [dir, name] of [...packages].sort((a, b) => a[1].localeCompare(b[1], 'en') || a[0].localeCompare(b[0], 'en'))) {
    const pkg = JSON.parse(await readFile(path.join(root, dir, 'package.json'), 'utf8'))
    const license = typeof pkg.license === 'string' ? pkg.license : (pkg.license?.type ?? 'UNKNOWN')
    const files = (await readdir(path.join(root, dir)))
      .filter((f) => /^(licen[sc]e|copying|notice)(\.(md|txt|markdown))?$/i.test(f))
      .sort()
    const texts = []
    for (const f of files) texts.push((await readFile(path.join(root, dir, f), 'utf8')).replace(/\r\n/g, '\n').trim())
    if (texts.length === 0) {
      // No licence file (qrcode-generator): the licence's standard text with the copyright
      // notices found in the package's bundled sources.
      const template = STANDARD_LICENSES[license]
      if (!template) throw new Error(`licenses: ${name} ships no licence file and ${license} has no standard text here; add it to STANDARD_LICENSES`)
      const notices = new Set()
      for (const input of inputsOf.get(dir)) {
        for (const line of (await readFile(path.join(root, input), 'utf8')).split('\n').slice(0, 60)) {
          const c = line.match(/Copyright\s.*$/i)
          if (c) notices.add(c[0].trim())
        }
      }
      if (notices.size === 0) throw new Error(`licenses: ${name} ships no licence file and no copyright notice`)
      texts.push(`(No licence file in the package; its sources say:)\n\n${[...notices].join('\n')}\n\n${template}`)
    }
    sections.push([
      `${name} ${pkg.version}`,
      `License: ${license}`,
      pkg.homepage ? `Homepage: ${pkg.homepage}` : null,
      '',
      texts.join('\n\n')
    ].filter((line) => line !== null).join('\n'))
  }
  const rule = '='.repeat(78)
  return [
    'Atelier web UI: third-party software in app.js',
    '',
    'app.js bundles the following npm packages (generated by assets/scripts/build.mjs from',
    'esbuild\'s metafile: only packages whose code is in the bundle). Atelier itself is',
    'licensed under the AGPL-3.0-or-later.',
    '',
    ...sections.flatMap((s) => [rule, s, ''])
  ].join('\n')
}
