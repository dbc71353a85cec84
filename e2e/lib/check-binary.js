// `npm test` runs this first (pretest) so a missing server binary fails fast and clearly.
import { atelierBin, binaryProblem } from './server.js'

const problem = binaryProblem()
if (problem) {
  process.stderr.write(`\ne2e: ${problem}\n\n`)
  process.exit(1)
}
process.stdout.write(`e2e: using server binary ${atelierBin()}\n`)
