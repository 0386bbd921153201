/** S3's errors as S3 words them, with the extra fields S3 puts in its `<Error>` XML. */
import { AwsError } from '../../server/errors.ts';
import type { ChecksumAlgorithm } from './types.ts';

export const MIN_PART_SIZE = 5 * 1024 * 1024;
export const MAX_OBJECT_PUT_SIZE = 5 * 1024 * 1024 * 1024;
export const MAX_KEY_BYTES = 1024;
export const MAX_PART_NUMBER = 10_000;

export const S3Errors = {
  noSuchBucket: (bucket: string) =>
    new AwsError('NoSuchBucket', 'The specified bucket does not exist', 404, { fields: { BucketName: bucket } }),
  noSuchKey: (key: string) => new AwsError('NoSuchKey', 'The specified key does not exist.', 404, { fields: { Key: key } }),
  bucketAlreadyOwnedByYou: (bucket: string) =>
    new AwsError(
      'BucketAlreadyOwnedByYou',
      'Your previous request to create the named bucket succeeded and you already own it.',
      409,
      { fields: { BucketName: bucket } },
    ),
  bucketNotEmpty: (bucket: string) =>
    new AwsError('BucketNotEmpty', 'The bucket you tried to delete is not empty', 409, { fields: { BucketName: bucket } }),
  invalidBucketName: (bucket: string) =>
    new AwsError('InvalidBucketName', 'The specified bucket is not valid.', 400, { fields: { BucketName: bucket } }),
  keyTooLong: (size: number) =>
    new AwsError('KeyTooLongError', 'Your key is too long', 400, { fields: { Size: size, MaxSizeAllowed: MAX_KEY_BYTES } }),
  emptyKey: () => new AwsError('InvalidArgument', 'Object key must not be empty.', 400),
  invalidKeyEncoding: () => new AwsError('InvalidArgument', 'Object key is not valid UTF-8.', 400),
  noSuchUpload: (uploadId: string) =>
    new AwsError(
      'NoSuchUpload',
      'The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.',
      404,
      { fields: { UploadId: uploadId } },
    ),
  invalidPart: (uploadId: string, partNumber: number, etag: string) =>
    new AwsError(
      'InvalidPart',
      "One or more of the specified parts could not be found.  The part may not have been uploaded, or the specified entity tag may not have matched the part's entity tag.",
      400,
      { fields: { UploadId: uploadId, PartNumber: partNumber, ETag: etag } },
    ),
  invalidPartOrder: (uploadId: string) =>
    new AwsError(
      'InvalidPartOrder',
      'The list of parts was not in ascending order. Parts must be ordered by part number.',
      400,
      { fields: { UploadId: uploadId } },
    ),
  entityTooSmall: (proposedSize: number, partNumber: number, etag: string) =>
    new AwsError('EntityTooSmall', 'Your proposed upload is smaller than the minimum allowed size', 400, {
      fields: { ProposedSize: proposedSize, MinSizeAllowed: MIN_PART_SIZE, PartNumber: partNumber, ETag: etag },
    }),
  entityTooLarge: (proposedSize: number, maxSize: number) =>
    new AwsError('EntityTooLarge', 'Your proposed upload exceeds the maximum allowed size', 400, {
      fields: { ProposedSize: proposedSize, MaxSizeAllowed: maxSize },
    }),
  invalidPartNumber: (partNumber: number) =>
    new AwsError('InvalidArgument', 'Part number must be an integer between 1 and 10000, inclusive', 400, {
      fields: { ArgumentName: 'partNumber', ArgumentValue: partNumber },
    }),
  malformedXML: () =>
    new AwsError(
      'MalformedXML',
      'The XML you provided was not well-formed or did not validate against our published schema',
      400,
    ),
  invalidDigest: (contentMD5: string) =>
    new AwsError('InvalidDigest', 'The Content-MD5 you specified was invalid.', 400, { fields: { 'Content-MD5': contentMD5 } }),
  badContentMD5: (expected: string, calculated: string) =>
    new AwsError('BadDigest', 'The Content-MD5 you specified did not match what we received.', 400, {
      fields: { ExpectedDigest: expected, CalculatedDigest: calculated },
    }),
  badChecksum: (algorithm: ChecksumAlgorithm) =>
    new AwsError('BadDigest', `The ${algorithm} you specified did not match the calculated checksum.`, 400),
  invalidChecksumValue: (algorithm: ChecksumAlgorithm) =>
    new AwsError('InvalidRequest', `Value for x-amz-checksum-${algorithm.toLowerCase()} header is invalid.`, 400),
  copyToItself: () =>
    new AwsError(
      'InvalidRequest',
      "This copy request is illegal because it is trying to copy an object to itself without changing the object's metadata, storage class, website redirect location or encryption attributes.",
      400,
    ),
  copySourceTooLarge: () =>
    new AwsError(
      'InvalidRequest',
      `The specified copy source is larger than the maximum allowable size for a copy source: ${MAX_OBJECT_PUT_SIZE}`,
      400,
    ),
} as const;
