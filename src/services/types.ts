import type { Principal } from '../iam/principal.ts';
import type { Logger } from '../server/logger.ts';
import type { Checksums } from '../store/objects/types.ts';

/** What a provider method knows about the call besides its input. */
export interface RequestContext {
  requestId: string;
  principal: Principal;
  region: string;
  accountId: string;
  sourceIp: string;
  log: Logger;
  /**
   * For streaming uploads: checks the received bytes against what the request signed or
   * trailed (payload SHA-256, aws-chunked decoded length, trailing checksum). Called by the
   * object store before an object becomes visible; throws the AWS error when they differ.
   */
  verifyPayload(digest: { sha256Hex: string; size: number; checksums: Checksums }): void;
  /** Checksum algorithms a trailing header will carry (e.g. from x-amz-trailer), to compute while storing. */
  trailingChecksumAlgorithms: string[];
}

export type OperationInput = Record<string, any>;
export type OperationOutput = Record<string, unknown>;
export type OperationHandler = (input: OperationInput, ctx: RequestContext) => Promise<OperationOutput> | OperationOutput;

/** A wire service's implementation: one method per implemented operation, named as in the API model. */
export type Provider = object;

export function handlerFor(provider: Provider, operation: string): OperationHandler | undefined {
  const fn = (provider as Record<string, unknown>)[operation];
  return typeof fn === 'function' ? (fn.bind(provider) as OperationHandler) : undefined;
}

/**
 * One provider made of several parts (e.g. SageMaker's training and hosting operations),
 * each a class with one method per operation it implements. A name implemented twice is a bug.
 */
export function composeProviders(...parts: object[]): Provider {
  const composite: Record<string, unknown> = {};
  for (const part of parts) {
    let proto = Object.getPrototypeOf(part);
    while (proto && proto !== Object.prototype) {
      for (const name of Object.getOwnPropertyNames(proto)) {
        const fn = (part as Record<string, unknown>)[name];
        if (name === 'constructor' || typeof fn !== 'function' || !/^[A-Z]/.test(name)) continue;
        if (name in composite) throw new Error(`operation ${name} is implemented by two providers`);
        composite[name] = fn.bind(part);
      }
      proto = Object.getPrototypeOf(proto);
    }
  }
  return composite;
}
