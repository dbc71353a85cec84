// CI check: rebuilds into a temporary directory and fails if the result differs from the
// committed dist/ (a file added, missing or changed). Run by `npm run check`.
import { execFileSync } from 'node:child_process'
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const committed = path.join(root, 'dist')
const tmp = await mkdtemp(path.join(tmpdir(), 'atelier-assets-'))
const fresh = path.join(tmp, 'dist')

const list = async (dir) => (await readdir(dir, { recursive: true, withFileTypes: true }))
  .filter((e) => e.isFile())
  .map((e) => path.relative(dir, path.join(e.parentPath ?? e.path, e.name)))
  .sort()

try {
  execFileSync(process.execPath, [path.join(root, 'scripts/build.mjs'), fresh], { stdio: 'inherit', cwd: root })
  const [a, b] = [await list(committed).catch(() => []), await list(fresh)]
  const problems = []
  for (const f of b) if (!a.includes(f)) problems.push(`missing from dist/: ${f}`)
  for (const f of a) if (!b.includes(f)) problems.push(`not produced by the build: dist/${f}`)
  for (const f of b.filter((f) => a.includes(f))) {
    const [x, y] = await Promise.all([readFile(path.join(committed, f)), readFile(path.join(fresh, f))])
    if (!x.equals(y)) problems.push(`differs from its sources: dist/${f}`)
  }
  if (problems.length) {
    console.error(`assets/dist is not the build of assets/src:\n  ${problems.join('\n  ')}\nRun \`npm run build\` in assets/ and commit dist/.`)
    process.exitCode = 1
  } else {
    console.log(`assets/dist matches its sources (${b.length} files)`)
  }
} finally {
  await rm(tmp, { recursive: true, force: true })
}
