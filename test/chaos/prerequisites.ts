import { execFileSync } from 'node:child_process';

/**
 * What the chaos suite needs from the machine: root (network namespaces, veth pairs and tc
 * filters are created by `fabric up --netns` and deploy/chaos/partition.sh) and the iproute2
 * tools that do it. Each missing piece is named the way an operator would install or grant it.
 */
export function missingForChaos(): string[] {
  const missing: string[] = [];
  const uid = process.getuid?.();
  if (uid !== 0) missing.push(`root (this process runs as uid ${uid ?? 'unknown'})`);
  const tools: Array<[string, string[]]> = [
    ['ip', ['netns', 'list']],
    ['tc', ['-V']],
  ];
  for (const [tool, args] of tools) {
    try {
      execFileSync(tool, args, { stdio: 'pipe' });
    } catch (err) {
      const e = err as NodeJS.ErrnoException & { stderr?: Buffer };
      missing.push(
        e.code === 'ENOENT'
          ? `\`${tool}\` (not found; install iproute2)`
          : `a working \`${tool} ${args.join(' ')}\` (${e.stderr?.toString().trim().split('\n')[0] || e.message})`,
      );
    }
  }
  return missing;
}
