/**
 * One contender for the store lock, for the lock stress test:
 *   node test/site/lock-child.ts <store> <witness-dir> <hold-ms> <release|crash>
 * Signals ready, waits for `go`, takes the lock, proves it is alone (creates `holder` with O_EXCL
 * in the witness folder), holds it a while, checks the fencing token, and releases it — or, with
 * `crash`, exits still holding it, so that the next contender must take over a dead holder's lock.
 * Prints `OK <token>` or `DOUBLE <token>` (another holder's witness was there).
 */
import { closeSync, existsSync, openSync, rmSync, writeFileSync, constants } from 'node:fs';
import { join } from 'node:path';
import { acquireStoreLock } from '../../pipeline/src/site/lock.ts';

const [store, witness, holdMs, mode] = process.argv.slice(2) as [string, string, string, string];
writeFileSync(join(witness, `ready-${process.pid}`), '');
while (!existsSync(join(witness, 'go'))) await new Promise((r) => setTimeout(r, 5));
const lock = await acquireStoreLock(store, 240_000);
let alone = true;
try {
  closeSync(openSync(join(witness, 'holder'), constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL));
} catch {
  alone = false;
}
await new Promise((r) => setTimeout(r, Number(holdMs)));
const fenced = lock.stillHolds();
if (alone) rmSync(join(witness, 'holder'));
if (mode !== 'crash') lock.release();
process.stdout.write(`${alone && fenced ? 'OK' : 'DOUBLE'} ${lock.token}\n`);
