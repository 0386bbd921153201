import { Errors } from '../server/errors.ts';
import type { Principal } from './principal.ts';

/**
 * The single authorization hook every request passes: may `principal` perform `action`
 * (e.g. `s3:PutObject`) on `resourceArn`? The root principal may do everything; IAM
 * policies for other principals come later and plug in here.
 */
export function authorize(principal: Principal, action: string, resourceArn: string): void {
  if (principal.kind === 'root') return;
  throw Errors.accessDenied(principal.arn, action, resourceArn);
}
