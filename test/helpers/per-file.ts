/** Setup file of every project: runs before each test file, also when the worker keeps its modules. */
import { afterAll } from 'vitest';
import { endOfFile } from './fixture.ts';

afterAll(endOfFile);
