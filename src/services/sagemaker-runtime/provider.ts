/** SageMaker Runtime: InvokeEndpoint against Kiln's real-time endpoints. */
import type { Endpoints } from '../../engine/hosting/endpoints.ts';
import { AwsError, Errors } from '../../server/errors.ts';
import type { OperationInput, RequestContext } from '../types.ts';

export class SageMakerRuntimeProvider {
  constructor(private readonly endpoints: Endpoints) {}

  InvokeEndpoint(input: OperationInput, ctx: RequestContext) {
    return this.endpoints.invoke(
      {
        EndpointName: input.EndpointName,
        Body: Buffer.isBuffer(input.Body) ? input.Body : Buffer.from(input.Body ?? ''),
        ContentType: input.ContentType,
        Accept: input.Accept,
        CustomAttributes: input.CustomAttributes,
        TargetModel: input.TargetModel,
        TargetVariant: input.TargetVariant,
        InferenceId: input.InferenceId,
      },
      ctx.requestId,
    );
  }
}

/** The runtime words input errors as ValidationError; an oversize body as its own message. */
export function runtimeValidationError(problems: string[], requestId: string): Error {
  if (problems.some((p) => /'body'.*length less than or equal to/i.test(p))) {
    return new AwsError('ValidationError', `Request ${requestId} has oversize body.`, 413);
  }
  const base = Errors.validation(problems);
  return new AwsError('ValidationError', base.message, 400);
}
