/**
 * Access keys and the principals they belong to. The root key pair comes from
 * KILN_ACCESS_KEY_ID/KILN_SECRET_ACCESS_KEY, or is generated at first start and kept in
 * `<dataDir>/keys/root-credentials.json` (mode 0600).
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { writeFileAtomic } from '../store/atomic-file.ts';
import type { Principal } from './principal.ts';

export interface AccessKey {
  accessKeyId: string;
  secretAccessKey: string;
}

const KEY_ID_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

function generateAccessKey(): AccessKey {
  const id = [...randomBytes(16)].map((b) => KEY_ID_ALPHABET[b % 32]).join('');
  return { accessKeyId: `AKIA${id}`, secretAccessKey: randomBytes(30).toString('base64').replace(/[+/]/g, 'K') };
}

export const rootCredentialsFile = (dataDir: string) => path.join(dataDir, 'keys', 'root-credentials.json');

/** Reads the stored root key pair, creating it when there is none yet. */
export function loadOrCreateRootKey(dataDir: string, fromEnv?: Partial<AccessKey>): { key: AccessKey; created: boolean; fromEnv: boolean } {
  if (fromEnv?.accessKeyId && fromEnv.secretAccessKey) {
    return { key: { accessKeyId: fromEnv.accessKeyId, secretAccessKey: fromEnv.secretAccessKey }, created: false, fromEnv: true };
  }
  const file = rootCredentialsFile(dataDir);
  if (existsSync(file)) return { key: JSON.parse(readFileSync(file, 'utf8')) as AccessKey, created: false, fromEnv: false };
  mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  const key = generateAccessKey();
  writeFileAtomic(file, `${JSON.stringify(key, null, 2)}\n`, 0o600);
  return { key, created: true, fromEnv: false };
}

export class CredentialStore {
  private readonly keys = new Map<string, { secret: string; principal: Principal }>();

  constructor(accountId: string, root: AccessKey) {
    this.keys.set(root.accessKeyId, {
      secret: root.secretAccessKey,
      principal: { arn: `arn:aws:iam::${accountId}:root`, accountId, userId: accountId, accessKeyId: root.accessKeyId, kind: 'root' },
    });
  }

  secretFor(accessKeyId: string): string | undefined {
    return this.keys.get(accessKeyId)?.secret;
  }

  principalFor(accessKeyId: string): Principal | undefined {
    return this.keys.get(accessKeyId)?.principal;
  }
}
