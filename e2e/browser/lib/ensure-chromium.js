// `npm test` runs this first (pretest): the tests drive Debian's Chromium, installed with apt-get
// only when it is missing (CI machines start without it). CHROMIUM_PATH overrides the path.
import { execFileSync } from 'node:child_process'
import { existsSync } from 'node:fs'

export const chromiumPath = () => process.env.CHROMIUM_PATH || '/usr/bin/chromium'

const path = chromiumPath()
if (!existsSync(path)) {
  if (process.env.CHROMIUM_PATH) {
    process.stderr.write(`e2e/browser: CHROMIUM_PATH=${path} does not exist\n`)
    process.exit(1)
  }
  process.stdout.write('e2e/browser: /usr/bin/chromium is missing; installing Debian\'s chromium with apt-get\n')
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' }
  try {
    execFileSync('apt-get', ['install', '-y', '-qq', 'chromium'], { stdio: 'inherit', env })
  } catch {
    // The package lists may be missing or stale on a fresh machine.
    execFileSync('apt-get', ['update', '-qq'], { stdio: 'inherit', env })
    execFileSync('apt-get', ['install', '-y', '-qq', 'chromium'], { stdio: 'inherit', env })
  }
  if (!existsSync(path)) {
    process.stderr.write(`e2e/browser: ${path} still missing after apt-get install chromium\n`)
    process.exit(1)
  }
}
process.stdout.write(`e2e/browser: using ${path}\n`)
