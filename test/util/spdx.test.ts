import { describe, expect, it } from 'vitest';
import { licenseAllowed } from '../../pipeline/src/util/spdx.ts';

describe('licenseAllowed', () => {
  const allowed = ['MIT', 'Apache-2.0', 'GPL-2.0', 'LGPL-3.0+', 'LicenseRef-site-approved'];

  it('allows a listed licence and refuses one not listed', () => {
    expect(licenseAllowed('MIT', allowed)).toBe(true);
    expect(licenseAllowed('BSD-3-Clause', allowed)).toBe(false);
  });

  it('needs both sides of AND and either side of OR', () => {
    expect(licenseAllowed('MIT AND Apache-2.0', allowed)).toBe(true);
    expect(licenseAllowed('MIT AND BSD-3-Clause', allowed)).toBe(false);
    expect(licenseAllowed('BSD-3-Clause OR MIT', allowed)).toBe(true);
    expect(licenseAllowed('BSD-3-Clause OR BSD-2-Clause', allowed)).toBe(false);
    expect(licenseAllowed('(BSD-3-Clause OR MIT) AND (Apache-2.0 OR BSD-2-Clause)', allowed)).toBe(true);
    expect(licenseAllowed('(BSD-3-Clause OR MIT) AND BSD-2-Clause', allowed)).toBe(false);
  });

  it('takes "or later" as the version named, never the reverse', () => {
    expect(licenseAllowed('GPL-2.0+', allowed)).toBe(true); // GPL-2.0 is allowed, and GPL-2.0+ may be used as GPL-2.0
    expect(licenseAllowed('LGPL-3.0+', allowed)).toBe(true);
    expect(licenseAllowed('LGPL-3.0', allowed)).toBe(false); // only "or later" is on the list
  });

  it('reads licence references, and compares an expression it cannot parse as a whole', () => {
    expect(licenseAllowed('LicenseRef-site-approved', allowed)).toBe(true);
    expect(licenseAllowed('LicenseRef-other', allowed)).toBe(false);
    expect(licenseAllowed('MIT AND', allowed)).toBe(false);
    expect(licenseAllowed('not an expression', ['not an expression'])).toBe(true);
  });
});
