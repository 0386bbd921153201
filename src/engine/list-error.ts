import { AwsError } from '../server/errors.ts';
import { InvalidNextToken } from '../store/metadata/resources.ts';

/** For `.catch` on a List* page: a NextToken the store did not issue is the caller's ValidationException, as on SageMaker. */
export function listError(e: unknown): never {
  if (e instanceof InvalidNextToken) throw new AwsError('ValidationException', 'The NextToken provided is invalid.');
  throw e;
}
