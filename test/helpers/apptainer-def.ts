/**
 * A structural check of an Apptainer definition file, after the Apptainer user guide's
 * "Definition Files" chapter: one or more stages, each a header of `Key: value` lines starting
 * with `Bootstrap:`, then `%section` blocks from the known set, each at most once per stage.
 * No Apptainer binary is needed; the rules are the documented ones.
 */
const HEADER_KEYS = new Set(['Bootstrap', 'From', 'Stage', 'Fingerprints', 'Include', 'MirrorURL', 'OSVersion']);
const SECTIONS = new Set(['setup', 'files', 'environment', 'post', 'runscript', 'startscript', 'test', 'labels', 'help', 'arguments']);
const BOOTSTRAP_AGENTS = new Set([
  'docker',
  'docker-daemon',
  'docker-archive',
  'oci',
  'oci-archive',
  'oras',
  'library',
  'localimage',
  'scratch',
  'shub',
  'yum',
  'zypper',
  'debootstrap',
  'busybox',
]);

/** Every problem found; empty when the definition is well formed. */
export function apptainerDefProblems(text: string): string[] {
  const problems: string[] = [];
  const lines = text.split('\n');
  let stage: { header: Map<string, string>; sections: Set<string>; line: number } | undefined;
  let section: string | undefined;
  let sectionBody = 0;
  const stages: NonNullable<typeof stage>[] = [];
  const closeSection = (at: number): void => {
    if (section && ['post', 'runscript'].includes(section) && sectionBody === 0) problems.push(`line ${at}: %${section} is empty`);
  };
  lines.forEach((raw, i) => {
    const n = i + 1;
    const line = raw.trimEnd();
    if (line === '' || (section === undefined && line.startsWith('#'))) return;
    const header = /^([A-Za-z]+):\s*(.*)$/.exec(line);
    if (header && (section === undefined || header[1] === 'Bootstrap')) {
      const [, key, value] = header as unknown as [string, string, string];
      if (key === 'Bootstrap') {
        closeSection(n);
        section = undefined;
        stage = { header: new Map(), sections: new Set(), line: n };
        stages.push(stage);
        if (!BOOTSTRAP_AGENTS.has(value)) problems.push(`line ${n}: unknown bootstrap agent "${value}"`);
      } else if (!stage) {
        problems.push(`line ${n}: header "${key}" before Bootstrap`);
        return;
      } else if (!HEADER_KEYS.has(key)) problems.push(`line ${n}: unknown header "${key}"`);
      if (stage.header.has(key)) problems.push(`line ${n}: header "${key}" given twice in one stage`);
      stage.header.set(key, value);
      return;
    }
    const sec = /^%([a-z]+)\b(.*)$/.exec(line);
    if (sec) {
      closeSection(n);
      const name = sec[1]!;
      if (!stage) problems.push(`line ${n}: %${name} before Bootstrap`);
      else if (!SECTIONS.has(name)) problems.push(`line ${n}: unknown section %${name}`);
      else if (stage.sections.has(name)) problems.push(`line ${n}: %${name} appears twice in one stage`);
      stage?.sections.add(name);
      section = name;
      sectionBody = 0;
      return;
    }
    if (section === undefined) {
      problems.push(`line ${n}: text outside any section: ${JSON.stringify(line)}`);
      return;
    }
    if (!line.trimStart().startsWith('#')) sectionBody++;
    if (section === 'files' && !line.trimStart().startsWith('#')) {
      const words = line.trim().split(/\s+/);
      // `src [dest]`, or in a multi-stage file `from <stage>` as a section argument.
      if (words.length > 2) problems.push(`line ${n}: %files entry must be "source [destination]": ${JSON.stringify(line.trim())}`);
    }
    if (section === 'labels' && !line.trimStart().startsWith('#') && !/^\s*\S+\s+\S/.test(line)) {
      problems.push(`line ${n}: %labels entry must be "key value": ${JSON.stringify(line.trim())}`);
    }
  });
  closeSection(lines.length);
  if (stages.length === 0) problems.push('no Bootstrap header');
  for (const s of stages) {
    const agent = s.header.get('Bootstrap');
    if (agent !== 'scratch' && !s.header.has('From')) problems.push(`line ${s.line}: stage without From`);
    if (stages.length > 1 && !s.header.has('Stage')) problems.push(`line ${s.line}: a multi-stage file needs Stage: on every stage`);
  }
  return problems;
}
