// Certificates made for a test with openssl (RSA 2048, as most real ones
// are): a CA, leaf certificates it signs for given names (server or client
// use), and an expired one. Made in a temp dir, read back as PEM.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { runCommand } from './processes.js';

export interface Pem {
  readonly cert: string;
  readonly key: string;
}

export interface CertKit {
  readonly ca: Pem;
  /** A leaf signed by the CA: DNS names for a server, or a subject for a client (clientAuth). */
  leaf(name: string, opts?: { dns?: readonly string[]; client?: boolean; days?: number; subject?: string }): Promise<Pem>;
  /** A leaf valid for one day in 2024. */
  expired(dns: readonly string[]): Promise<Pem>;
  close(): Promise<void>;
}

async function openssl(args: string[], cwd: string): Promise<void> {
  const r = await runCommand('openssl', args, { cwd, timeoutMs: 60_000 });
  if (r.code !== 0) throw new Error(`openssl ${args.slice(0, 2).join(' ')}: ${r.stderr.trim().slice(-400)}`);
}

/** A CA named `caName` and the means to sign leaves with it. */
export async function certKit(caName = 'Test CA'): Promise<CertKit> {
  const dir = await mkdtemp(path.join(tmpdir(), 'atsi-certs-'));
  await openssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '3650', '-subj', `/CN=${caName}`,
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign'], dir);
  const ca = { cert: await readFile(path.join(dir, 'ca.crt'), 'utf8'), key: await readFile(path.join(dir, 'ca.key'), 'utf8') };
  let n = 0;
  const sign = async (name: string, ext: string, extraArgs: string[]): Promise<Pem> => {
    const base = `leaf${++n}`;
    await openssl(['req', '-new', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${base}.key`, '-out', `${base}.csr`, '-subj', name], dir);
    await writeFile(path.join(dir, `${base}.ext`), ext);
    await openssl(['x509', '-req', '-in', `${base}.csr`, '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-sha256', '-extfile', `${base}.ext`, '-out', `${base}.crt`, ...extraArgs], dir);
    return { cert: await readFile(path.join(dir, `${base}.crt`), 'utf8'), key: await readFile(path.join(dir, `${base}.key`), 'utf8') };
  };
  return {
    ca,
    leaf: (name, opts = {}) => {
      const dns = opts.dns ?? (opts.client ? [] : [name]);
      const ext = [
        dns.length ? `subjectAltName=${dns.map((d) => `DNS:${d}`).join(',')}` : '',
        `extendedKeyUsage=${opts.client ? 'clientAuth' : 'serverAuth'}`,
        'basicConstraints=CA:FALSE',
      ].filter(Boolean).join('\n');
      return sign(opts.subject ?? `/CN=${name}`, `${ext}\n`, ['-days', String(opts.days ?? 365)]);
    },
    expired: async (dns) => {
      // openssl 3.0's x509 cannot set dates; `ca` can.
      const base = `expired${++n}`;
      await openssl(['req', '-new', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${base}.key`, '-out', `${base}.csr`, '-subj', `/CN=${dns[0] ?? 'expired'}`,
        '-addext', `subjectAltName=${dns.map((d) => `DNS:${d}`).join(',')}`], dir);
      await writeFile(path.join(dir, `${base}.cnf`), '[ca]\ndefault_ca=x\n[x]\ndatabase=index.txt\nnew_certs_dir=.\nserial=serial\ndefault_md=sha256\npolicy=p\ncopy_extensions=copy\nunique_subject=no\n[p]\ncommonName=supplied\n');
      await writeFile(path.join(dir, 'index.txt'), '');
      await writeFile(path.join(dir, 'serial'), '1000\n');
      await openssl(['ca', '-batch', '-config', `${base}.cnf`, '-cert', 'ca.crt', '-keyfile', 'ca.key', '-in', `${base}.csr`, '-startdate', '20240101000000Z', '-enddate', '20240102000000Z', '-notext', '-out', `${base}.crt`], dir);
      return { cert: await readFile(path.join(dir, `${base}.crt`), 'utf8'), key: await readFile(path.join(dir, `${base}.key`), 'utf8') };
    },
    close: () => rm(dir, { recursive: true, force: true }),
  };
}
