/**
 * The wire services Kiln serves on its one port: which API model each speaks, how its
 * requests are recognised, and which provider implements it.
 */
import { loadApiModel, type ApiModel, type Operation } from '../server/api-model.ts';
import type { Codec } from '../server/codecs/codec.ts';
import { awsJsonCodec, restJsonCodec } from '../server/codecs/json.ts';
import { queryCodec } from '../server/codecs/query.ts';
import { restXmlCodec } from '../server/codecs/rest-xml.ts';
import { Errors } from '../server/errors.ts';
import { validateInput } from '../server/validate.ts';
import { handlerFor, type OperationHandler, type Provider } from './types.ts';

export interface ServiceDefinition {
  /** Kiln's name for the service, also the IAM action prefix (s3, sagemaker, sts, logs). */
  id: string;
  model: ApiModel;
  codec: Codec;
  /** botocore's folder name, for the value constraints used in validation (none for S3). */
  botocoreName?: string;
  /** The SigV4 credential-scope service clients sign with. */
  signingName: string;
  iamPrefix: string;
  provider: Provider;
  /** The ARN an operation acts on, for authorization and audit. */
  resourceArn(operation: Operation, input: Record<string, any>, account: { region: string; accountId: string }): string;
  /** Whether the call changes state (and so is audited). */
  isMutating(operation: Operation): boolean;
  /** The error for input that fails validation, where the service words it its own way (default: ValidationException). */
  validationError?(problems: string[], requestId: string): Error;
}

const CODECS: Record<string, Codec> = { json: awsJsonCodec, 'rest-json': restJsonCodec, 'rest-xml': restXmlCodec, query: queryCodec };

/** Calls that change nothing; InvokeEndpoint & co. are data-plane reads of a model, as CloudTrail counts them. */
const READ_ONLY = /^(Describe|List|Get|Search|BatchGet|BatchDescribe|Query|Head|Filter|Select|Invoke)/;

export function defineService(opts: {
  id: string;
  modelUid: string;
  botocoreName?: string;
  iamPrefix?: string;
  provider: Provider;
  resourceArn?: ServiceDefinition['resourceArn'];
  validationError?: ServiceDefinition['validationError'];
}): ServiceDefinition {
  const model = loadApiModel(opts.modelUid);
  const codec = CODECS[model.metadata.protocol];
  if (!codec) throw new Error(`${opts.modelUid}: protocol ${model.metadata.protocol} has no codec`);
  return {
    id: opts.id,
    model,
    codec,
    botocoreName: opts.botocoreName,
    signingName: model.metadata.signingName ?? model.metadata.endpointPrefix,
    iamPrefix: opts.iamPrefix ?? opts.id,
    provider: opts.provider,
    resourceArn: opts.resourceArn ?? (() => '*'),
    isMutating: (operation) => !READ_ONLY.test(operation.name),
    ...(opts.validationError ? { validationError: opts.validationError } : {}),
  };
}

export const s3ResourceArn: ServiceDefinition['resourceArn'] = (_op, input) =>
  input.Bucket ? `arn:aws:s3:::${input.Bucket}${input.Key !== undefined ? `/${input.Key}` : ''}` : 'arn:aws:s3:::*';

/** Checks an operation's input against the API model, worded as the service words it (S3 checks its own). */
export function checkInput(service: ServiceDefinition, operation: string, input: Record<string, unknown>, requestId: string): void {
  if (service.id === 's3') return;
  const problems = validateInput(service.model, service.botocoreName, operation, input);
  if (problems.length) throw service.validationError?.(problems, requestId) ?? Errors.validation(problems);
}

/** The provider method implementing an operation, or the NotImplemented error. */
export function operationHandler(service: ServiceDefinition, operation: string): OperationHandler {
  const handler = handlerFor(service.provider, operation);
  if (!handler) throw Errors.notImplemented(service.model.metadata.serviceId, operation);
  return handler;
}
