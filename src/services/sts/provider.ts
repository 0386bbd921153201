import type { RequestContext } from '../types.ts';

/** AWS STS: who am I. */
export class StsProvider {
  GetCallerIdentity(_input: unknown, ctx: RequestContext) {
    return { UserId: ctx.principal.userId, Account: ctx.principal.accountId, Arn: ctx.principal.arn };
  }
}
