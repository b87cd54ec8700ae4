/** Pieces of the main job (`brickyard run`) that need no tools; the job itself runs in test/e2e/cli.e2e.test.ts. */
import { describe, expect, it } from 'vitest';
import { licenseIds } from '../../pipeline/src/cli/run.ts';
import { licenseAllowed } from '../../pipeline/src/site/policy.ts';

describe('licenseIds (the development site policy allows the catalogue licences)', () => {
  it('lists the licences of an SPDX expression, without operators or exceptions', () => {
    expect(licenseIds('MIT')).toEqual(['MIT']);
    expect(licenseIds('GPL-2.0-only WITH Classpath-exception-2.0 OR (MIT AND Apache-2.0)')).toEqual(['GPL-2.0-only', 'MIT', 'Apache-2.0']);
    expect(licenseIds('GPL-2.0+')).toEqual(['GPL-2.0+']);
    expect(licenseIds('LicenseRef-STREAM')).toEqual(['LicenseRef-STREAM']);
  });

  it('keeps a text that is not SPDX whole, so that only that text is allowed', () => {
    expect(licenseIds('see LICENSE file')).toEqual(['see LICENSE file']);
  });

  it('allows exactly the expression it came from under the site policy check', () => {
    for (const e of ['MIT', 'GPL-2.0-only WITH Classpath-exception-2.0 OR (MIT AND Apache-2.0)', 'GPL-2.0+', 'BSD-3-Clause AND LicenseRef-STREAM', 'see LICENSE file']) {
      expect(licenseAllowed(e, licenseIds(e))).toBe(true);
    }
    expect(licenseAllowed('MIT AND GPL-3.0-only', licenseIds('MIT'))).toBe(false);
  });
});
