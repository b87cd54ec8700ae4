/** Setup file of every project: runs before each test file, also when the worker keeps its modules. */
import { afterAll } from 'vitest';
import { endOfFile } from './fixture.ts';

// The unit project's files work in memory where the global setup found room (test/helpers/global-tmp.ts);
// a folder a file made there for itself (test/site/site-fixture.ts) stays its $TMPDIR.
const memory = process.env['BRICKYARD_TEST_MEMORY_TMPDIR'];
if (process.env['BRICKYARD_TEST_PROJECT'] === 'unit' && memory !== undefined && !process.env['TMPDIR']?.startsWith(`${memory}/`)) process.env['TMPDIR'] = memory;

afterAll(endOfFile);
