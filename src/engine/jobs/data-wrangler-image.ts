/**
 * The SageMaker Data Wrangler container, which runs an exported `.flow` as a processing job.
 * Kiln recognises its image URIs and runs the flow on its own flow engine instead:
 *
 *   663277389841.dkr.ecr.us-east-1.amazonaws.com/sagemaker-data-wrangler-container:3.x
 *       what `sagemaker.image_uris.retrieve('data-wrangler', region)` returns (versions 1.x, 2.x,
 *       3.x), or a release tag such as 1.3.1 or 5.0.9 as Data Wrangler's exported notebooks name it;
 *   kiln/data-wrangler, kiln/data-wrangler:<version>
 *       Kiln's short name, the same in every region.
 *
 * The registry accounts are those of the SageMaker Python SDK's `image_uri_config/data-wrangler.json`
 * (one account per region for every version; il-central-1 publishes 3.x only).
 */
import { ecrDomain } from './image-registries.ts';

export const DATA_WRANGLER_REPOSITORY = 'sagemaker-data-wrangler-container';

/** region → account of `sagemaker-data-wrangler-container`. */
export const DATA_WRANGLER_REGISTRIES: Readonly<Record<string, string>> = {
  'af-south-1': '143210264188',
  'ap-east-1': '707077482487',
  'ap-northeast-1': '649008135260',
  'ap-northeast-2': '131546521161',
  'ap-northeast-3': '913387583493',
  'ap-south-1': '089933028263',
  'ap-southeast-1': '119527597002',
  'ap-southeast-2': '422173101802',
  'ca-central-1': '557239378090',
  'cn-north-1': '245909111842',
  'cn-northwest-1': '249157047649',
  'eu-central-1': '024640144536',
  'eu-north-1': '054986407534',
  'eu-south-1': '488287956546',
  'eu-west-1': '245179582081',
  'eu-west-2': '894491911112',
  'eu-west-3': '807237891255',
  'il-central-1': '406833011540',
  'me-south-1': '376037874950',
  'sa-east-1': '424196993095',
  'us-east-1': '663277389841',
  'us-east-2': '415577184552',
  'us-west-1': '926135532090',
  'us-west-2': '174368400705',
};

/** Regions where the SDK lists only the 3.x image. */
const ONLY_3X = new Set(['il-central-1']);

export interface DataWranglerImage {
  kind: 'data-wrangler';
  /** The tag as given (3.x, 1.3.1, …); Kiln runs every version the same way. */
  version: string;
}

export interface RefusedDataWranglerImage {
  kind: 'unknown';
  reason: string;
}

const ECR_IMAGE = /^(\d{12})\.dkr\.ecr\.([a-z0-9-]+)\.([a-z0-9.-]+?)\/([a-z0-9][a-z0-9._/-]*)(?::([A-Za-z0-9_][A-Za-z0-9_.-]*))?$/;
const KILN_NAME = /^kiln\/data-wrangler(?::([A-Za-z0-9_][A-Za-z0-9_.-]*))?$/;
/** `3.x` as the SDK names versions, or a release such as `1.3.1`. */
const VERSION_TAG = /^\d+\.(x|\d+(\.\d+)?)$/;

/** The image URI the SageMaker Python SDK returns for Data Wrangler in a region (undefined where none is published). */
export function dataWranglerImageUri(region: string, version = '3.x'): string | undefined {
  const account = DATA_WRANGLER_REGISTRIES[region];
  return account && `${account}.dkr.ecr.${region}.${ecrDomain(region)}/${DATA_WRANGLER_REPOSITORY}:${version}`;
}

const refused = (uri: string, why: string): RefusedDataWranglerImage => ({
  kind: 'unknown',
  reason: `Kiln cannot run image '${uri}': ${why}. Data Wrangler flows run with ${dataWranglerImageUri('us-east-1')} (the account of your region, as sagemaker.image_uris.retrieve('data-wrangler', region) returns it) or kiln/data-wrangler.`,
});

/**
 * Whether an image URI names the Data Wrangler container: undefined when it does not, the image
 * when Kiln runs it, or why not when it names the container wrongly (another account, no version).
 */
export function resolveDataWranglerImage(uri: string): DataWranglerImage | RefusedDataWranglerImage | undefined {
  const image = uri.trim();
  const short = KILN_NAME.exec(image);
  if (short) {
    const tag = short[1] ?? 'latest';
    return tag === 'latest' || VERSION_TAG.test(tag) ? { kind: 'data-wrangler', version: tag } : refused(image, `'${tag}' is not a Data Wrangler version (such as 3.x or 1.3.1)`);
  }
  const ecr = ECR_IMAGE.exec(image);
  if (!ecr || ecr[4] !== DATA_WRANGLER_REPOSITORY) return undefined;
  const [, account, region = '', domain, , tag] = ecr;
  const expected = DATA_WRANGLER_REGISTRIES[region];
  if (!expected) return refused(image, `SageMaker publishes no Data Wrangler image in region '${region}'`);
  if (domain !== ecrDomain(region)) return refused(image, `ECR in ${region} is at ${ecrDomain(region)}, not ${domain}`);
  if (account !== expected) return refused(image, `${account} is not SageMaker's Data Wrangler registry for ${region} (expected ${expected})`);
  if (tag === undefined) return refused(image, `the image names no version; use e.g. ${dataWranglerImageUri(region)}`);
  if (!VERSION_TAG.test(tag)) return refused(image, `'${tag}' is not a Data Wrangler version (such as 3.x or 1.3.1)`);
  if (ONLY_3X.has(region) && /^[12]\./.test(tag)) return refused(image, `SageMaker publishes only Data Wrangler 3.x in ${region}`);
  return { kind: 'data-wrangler', version: tag };
}
