import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';

/**
 * Throwaway certificates made with openssl in `dir`, valid for a day: a CA is
 * `<name>.pem` + `<name>.key`, a certificate it signs the same, named by `name`.
 */
export class TestCertificates {
  constructor(readonly dir: string) {}

  file(name: string): string {
    return path.join(this.dir, name);
  }

  ca(name: string, subject: string): void {
    this.openssl(
      ...['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.pem`],
      ...['-days', '1', '-subj', subject],
    );
  }

  /** `extension` is one openssl extension line, e.g. `subjectAltName=IP:127.0.0.1` or `extendedKeyUsage=clientAuth`. */
  issue(name: string, opts: { ca: string; subject: string; extension: string }): void {
    writeFileSync(this.file(`${name}.ext`), `${opts.extension}\n`);
    this.openssl(
      'req',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      `${name}.key`,
      '-out',
      `${name}.csr`,
      '-subj',
      opts.subject,
    );
    this.openssl(
      ...['x509', '-req', '-in', `${name}.csr`, '-CA', `${opts.ca}.pem`, '-CAkey', `${opts.ca}.key`],
      ...['-CAcreateserial', '-out', `${name}.pem`, '-days', '1', '-extfile', `${name}.ext`],
    );
  }

  private openssl(...args: string[]): void {
    const r = spawnSync('openssl', args, { cwd: this.dir, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`openssl ${args.slice(0, 2).join(' ')} failed: ${r.stderr}`);
  }
}
