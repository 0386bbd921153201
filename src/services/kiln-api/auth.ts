/**
 * Kiln's own REST API is signed like every AWS call: SigV4 with the service name `kiln`
 * in the credential scope (any AWS SigV4 signer works; `kiln flow` uses ./client.ts).
 */
import { createHash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { CredentialStore } from '../../iam/credentials.ts';
import type { Principal } from '../../iam/principal.ts';
import { Errors } from '../../server/errors.ts';
import { verifySignature } from '../../server/sigv4.ts';

export const KILN_SIGNING_SERVICE = 'kiln';

export function authenticate(req: IncomingMessage, body: Buffer, credentials: CredentialStore): Principal {
  const raw = req.url ?? '/';
  const q = raw.indexOf('?');
  const verified = verifySignature(
    { method: req.method ?? 'GET', rawPath: q < 0 ? raw : raw.slice(0, q), rawQuery: q < 0 ? '' : raw.slice(q + 1), headers: req.headersDistinct },
    (id) => credentials.secretFor(id),
    new Date(),
    { bodySha256Hex: createHash('sha256').update(body).digest('hex'), service: KILN_SIGNING_SERVICE },
  );
  const principal = credentials.principalFor(verified.accessKeyId);
  if (!principal) throw Errors.internal('no principal for a verified key');
  return principal;
}
