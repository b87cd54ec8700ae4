/** Where a bundle comes from: the repository and commit of this checkout, as a bundle's manifest names them. */
import { gitOrEmpty } from '../git/git.ts';

export interface Source {
  repository: string;
  commit: string;
}

/**
 * The repository (`owner/name`: GITHUB_REPOSITORY in GitHub Actions, else the origin remote, else
 * `local/brickyard`) and the commit checked out (forty zeros outside a git checkout).
 */
export function sourceOf(root: string, env: NodeJS.ProcessEnv = process.env): Source {
  const repository = env['GITHUB_REPOSITORY'] ?? (gitOrEmpty(root, ['remote', 'get-url', 'origin']).replace(/^.*[:/]([^/]+\/[^/]+?)(\.git)?$/, '$1') || 'local/brickyard');
  return { repository, commit: gitOrEmpty(root, ['rev-parse', 'HEAD']) || '0'.repeat(40) };
}
