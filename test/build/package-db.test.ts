/** The package databases of an image's root file system: dpkg status (and status.d), RPM, os-release. */
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseDpkgStatus, readInstalledPackages, SbomError } from '../../pipeline/src/build/package-db.ts';
import { packagePurl } from '../../pipeline/src/build/sbom.ts';
import { BrickyardError } from '../../pipeline/src/util/errors.ts';
import { tempDir, writeTree } from '../helpers/fixture.ts';

const here = dirname(fileURLToPath(import.meta.url));
const statusText = readFileSync(join(here, 'fixtures', 'dpkg-status'), 'utf8');

describe('parseDpkgStatus', () => {
  const pkgs = parseDpkgStatus(statusText);

  it('keeps the installed packages of a real status file and skips config-files remnants', () => {
    expect(pkgs.map((p) => p.name)).toEqual(['base-files', 'bsdutils', 'ca-certificates', 'libc6', 'libgcc-s1']);
    expect(pkgs.find((p) => p.name === 'javascript-common')).toBeUndefined();
  });

  it('reads Source with and without a version, the epoch, Maintainer, Homepage and Multi-Arch', () => {
    const bsdutils = pkgs.find((p) => p.name === 'bsdutils')!;
    expect(bsdutils).toMatchObject({
      version: '1:2.38.1-5+deb12u3',
      arch: 'amd64',
      source: 'util-linux',
      sourceVersion: '2.38.1-5+deb12u3',
      supplier: 'util-linux packagers <util-linux@packages.debian.org>',
      homepage: 'https://www.kernel.org/pub/linux/utils/util-linux/',
      manager: 'dpkg',
      multiArch: 'foreign',
    });
    const libc6 = pkgs.find((p) => p.name === 'libc6')!;
    expect(libc6).toMatchObject({ version: '2.36-9+deb12u14', source: 'glibc', multiArch: 'same', arch: 'amd64' });
    expect(libc6.sourceVersion).toBeUndefined();
    expect(pkgs.find((p) => p.name === 'ca-certificates')!.arch).toBe('all');
    expect(pkgs.find((p) => p.name === 'base-files')!.source).toBeUndefined();
  });

  it('agrees with dpkg-query on the same file', () => {
    let out: string;
    try {
      const admin = writeTree({ status: statusText });
      out = execFileSync('dpkg-query', [`--admindir=${admin}`, '-W', '-f', '${db:Status-Abbrev}|${Package}|${Version}|${Architecture}|${source:Package}|${source:Version}\n'], {
        encoding: 'utf8',
      });
    } catch {
      return; // no dpkg on this machine: the fixture assertions above still hold
    }
    const installed = out
      .trim()
      .split('\n')
      .map((l) => l.split('|'))
      .filter(([abbrev]) => /^[ih]i/.test(abbrev!))
      .map(([, name, version, arch, source, sourceVersion]) => [name, version, arch, source, sourceVersion]);
    expect(pkgs.map((p) => [p.name, p.version, p.arch, p.source ?? p.name, p.sourceVersion ?? p.version])).toEqual(installed);
  });

  it('joins continuation lines, keeps held packages, reads multi-arch pairs, tolerates CRLF', () => {
    const text = [
      'Package: libc6',
      'Status: hold ok installed',
      'Architecture: i386',
      'Multi-Arch: same',
      'Source: glibc (2.36-9)',
      'Version: 2.36-9+b1',
      'Maintainer: GNU Libc Maintainers',
      '  <debian-glibc@lists.debian.org>',
      'Description: GNU C Library',
      ' second line',
      '',
      'Package: libc6',
      'Status: install ok installed',
      'Architecture: amd64',
      'Multi-Arch: same',
      'Version: 2.36-9+b1',
      '',
      'Package: half',
      'Status: install reinstreq half-installed',
      'Architecture: amd64',
      'Version: 1',
      '',
      'Package: gone',
      'Status: purge ok not-installed',
      'Architecture: amd64',
      '',
    ].join('\r\n');
    const got = parseDpkgStatus(text);
    expect(got.map((p) => `${p.name}:${p.arch}`)).toEqual(['libc6:i386', 'libc6:amd64']);
    expect(got[0]).toMatchObject({ source: 'glibc', sourceVersion: '2.36-9', supplier: 'GNU Libc Maintainers <debian-glibc@lists.debian.org>' });
    expect(parseDpkgStatus('Package: x\nVersion: 1\nArchitecture: all\n')).toEqual([]);
    expect(parseDpkgStatus('Package: x\nVersion: 1\nArchitecture: all\n', { assumeInstalled: true })).toHaveLength(1);
  });
});

describe('readInstalledPackages', () => {
  it('reads dpkg status and distroless status.d inside the root, and os-release through an absolute symlink', () => {
    const root = writeTree({
      'var/lib/dpkg/status': statusText,
      'var/lib/dpkg/status.d/tzdata': 'Package: tzdata\nVersion: 2025b-0+deb12u2\nArchitecture: all\nMaintainer: GNU Libc Maintainers <debian-glibc@lists.debian.org>\n',
      'var/lib/dpkg/status.d/tzdata.md5sums': 'd41d8cd98f00b204e9800998ecf8427e  usr/share/zoneinfo/UTC\n',
      'usr/lib/os-release': 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nID=debian\nVERSION_ID="12"\n',
    });
    mkdirSync(join(root, 'etc'));
    symlinkSync('/usr/lib/os-release', join(root, 'etc/os-release')); // absolute: must resolve inside root
    const pkgs = readInstalledPackages(root);
    expect(pkgs.map((p) => p.name)).toEqual(['base-files', 'bsdutils', 'ca-certificates', 'libc6', 'libgcc-s1', 'tzdata']);
    expect(pkgs.every((p) => p.namespace === 'debian' && p.distro === 'debian-12')).toBe(true);
    expect(packagePurl(pkgs.find((p) => p.name === 'libc6')!)).toBe('pkg:deb/debian/libc6@2.36-9+deb12u14?arch=amd64&distro=debian-12');
  });

  it('never follows an absolute symlink out to the host', () => {
    const root = tempDir();
    mkdirSync(join(root, 'var/lib/dpkg'), { recursive: true });
    symlinkSync('/var/lib/dpkg/status', join(root, 'var/lib/dpkg/status')); // points at itself inside root: missing
    expect(readInstalledPackages(root)).toEqual([]);
  });

  it('gives an empty list for an image without package databases, and refuses a missing root', () => {
    expect(readInstalledPackages(writeTree({ 'etc/hostname': 'x\n' }))).toEqual([]);
    expect(() => readInstalledPackages(join(tempDir(), 'nope'))).toThrow(SbomError);
  });

  it('queries RPM databases with rpm --root and parses the answer', () => {
    const root = writeTree({
      'var/lib/rpm/rpmdb.sqlite': '',
      'etc/os-release': 'NAME="Rocky Linux"\nID="rocky"\nVERSION_ID="9.4"\n',
    });
    const bin = tempDir();
    const log = join(bin, 'args');
    const rpm = join(bin, 'rpm');
    writeFileSync(
      rpm,
      `#!/bin/sh\nprintf '%s\\n' "$@" > '${log}'\n` +
        `printf 'bash\\t(none)\\t5.1.8\\t9.el9\\tx86_64\\tGPLv3+\\tRocky Enterprise Software Foundation\\thttps://www.gnu.org/software/bash\\tbash-5.1.8-9.el9.src.rpm\\n'\n` +
        `printf 'gpg-pubkey\\t(none)\\t350d275d\\t6279464b\\t(none)\\tpubkey\\t(none)\\t(none)\\t(none)\\n'\n` +
        `printf 'shadow-utils\\t2\\t4.9\\t8.el9\\tx86_64\\tBSD-3-Clause AND GPL-2.0-or-later\\tRocky Enterprise Software Foundation\\thttps://github.com/shadow-maint/shadow\\tshadow-utils-4.9-8.el9.src.rpm\\n'\n`,
    );
    chmodSync(rpm, 0o755);
    const pkgs = readInstalledPackages(root, { rpmCommand: rpm });
    expect(readFileSync(log, 'utf8').split('\n').slice(0, 5)).toEqual(['--root', root, '--dbpath', '/var/lib/rpm', '-qa']);
    expect(pkgs.map((p) => p.name)).toEqual(['bash', 'shadow-utils']);
    const shadow = pkgs[1]!;
    expect(shadow).toMatchObject({ version: '4.9-8.el9', epoch: '2', arch: 'x86_64', manager: 'rpm', namespace: 'rocky', distro: 'rocky-9.4' });
    expect(packagePurl(shadow)).toBe('pkg:rpm/rocky/shadow-utils@4.9-8.el9?arch=x86_64&distro=rocky-9.4&epoch=2');
    // Found on PATH too.
    expect(readInstalledPackages(root, { path: bin }).map((p) => p.name)).toEqual(['bash', 'shadow-utils']);
  });

  it('says what to install when the image has an RPM database and there is no rpm command', () => {
    const root = writeTree({ 'var/lib/rpm/Packages': '' });
    for (const options of [{ rpmCommand: null }, { path: tempDir() }]) {
      let err: unknown;
      try {
        readInstalledPackages(root, options);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(SbomError);
      expect(err).toBeInstanceOf(BrickyardError);
      expect((err as SbomError).problem).toBe('RPM_COMMAND_MISSING');
      expect((err as SbomError).code).toBe('TOOL_MISSING');
      expect((err as SbomError).hint).toMatch(/apt-get install rpm/);
    }
    // An empty var/lib/rpm is not a database.
    expect(readInstalledPackages(writeTree({ 'var/lib/rpm/.keep': '' }), { rpmCommand: null })).toEqual([]);
  });

  it('reports an rpm that fails', () => {
    const root = writeTree({ 'var/lib/rpm/rpmdb.sqlite': '' });
    const rpm = join(tempDir(), 'rpm');
    writeFileSync(rpm, '#!/bin/sh\necho "error: cannot open Packages database" >&2\nexit 1\n');
    chmodSync(rpm, 0o755);
    expect(() => readInstalledPackages(root, { rpmCommand: rpm })).toThrow(/cannot open Packages database/);
  });
});
