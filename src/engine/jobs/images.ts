/**
 * Which training image a job names decides what Kiln runs: a framework image in script mode
 * (framework-images.ts), or the built-in XGBoost algorithm, requested the ways users request
 * it on SageMaker:
 *
 *   683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1
 *       what `sagemaker.image_uris.retrieve('xgboost', region, version)` returns, for every
 *       region the SDK lists (China and ISO partitions included) and the versions below;
 *       0.90-x and 1.0-1 carry the SDK's `-cpu-py3` suffix, accepted with or without it;
 *   811284229777.dkr.ecr.us-east-1.amazonaws.com/xgboost:1   (or :latest)
 *       the legacy XGBoost 0.72 image from `get_image_uri`;
 *   kiln/xgboost:1.7-1, kiln/xgboost
 *       Kiln's short alias, the same in every region; without a version it is 1.7-1.
 *
 * Anything else resolves to `unknown` with a reason to show the user.
 */
import { resolveFrameworkImage, type FrameworkImage } from './framework-images.ts';
import { ecrDomain, XGBOOST_REGISTRIES } from './image-registries.ts';

/** The built-in algorithms Kiln implements (src/algorithms/<name>). */
export type BuiltinAlgorithm = 'xgboost';

export interface BuiltinImage {
  kind: 'builtin';
  algorithm: BuiltinAlgorithm;
  /** SageMaker's container version, e.g. '1.7-1'; '0.72' for the legacy image. */
  version: string;
}

export interface UnknownImage {
  kind: 'unknown';
  /** Why Kiln cannot run it and what it can run, ready to show as a job failure reason. */
  reason: string;
}

/** What an image URI means to Kiln; new kinds (containers) join this union. */
export type ResolvedImage = BuiltinImage | FrameworkImage | UnknownImage;

/** SageMaker XGBoost container versions Kiln runs, oldest first. */
export const XGBOOST_VERSIONS = ['0.90-1', '0.90-2', '1.0-1', '1.2-1', '1.2-2', '1.3-1', '1.5-1', '1.7-1'] as const;
export const XGBOOST_DEFAULT_VERSION = '1.7-1';
/** Versions SageMaker publishes that Kiln does not run yet (named in the rejection). */
const XGBOOST_KNOWN_UNSUPPORTED = ['3.0-5', '3.2-0'];
/** The SDK tags these versions `<version>-cpu-py3`. */
const CPU_PY3_TAGGED = new Set(['0.90-1', '0.90-2', '1.0-1']);
/** Graviton (arm64) inference tags the SDK produces. */
const ARM64_TAGGED = new Set(['1.3-1', '1.5-1']);
const LEGACY_VERSION = '0.72';

/** The image URI the SageMaker Python SDK returns for XGBoost in a region (undefined where none is published). */
export function xgboostImageUri(region: string, version: string = XGBOOST_DEFAULT_VERSION): string | undefined {
  const accounts = XGBOOST_REGISTRIES[region];
  if (!accounts) return undefined;
  const host = (account: string) => `${account}.dkr.ecr.${region}.${ecrDomain(region)}`;
  if (version === '1' || version === LEGACY_VERSION) return accounts[1] && `${host(accounts[1])}/xgboost:1`;
  return `${host(accounts[0])}/sagemaker-xgboost:${CPU_PY3_TAGGED.has(version) ? `${version}-cpu-py3` : version}`;
}

const ECR_IMAGE = /^(\d{12})\.dkr\.ecr\.([a-z0-9-]+)\.([a-z0-9.-]+?)\/([a-z0-9][a-z0-9._/-]*)(?::([A-Za-z0-9_][A-Za-z0-9_.-]*))?$/;
const KILN_ALIAS = /^kiln\/xgboost(?::([A-Za-z0-9_][A-Za-z0-9_.-]*))?$/;

const supported =
  `Kiln runs the built-in XGBoost images (<account>.dkr.ecr.<region>.amazonaws.com/sagemaker-xgboost:<version> ` +
  `as sagemaker.image_uris.retrieve('xgboost', region, version) returns them, versions ${XGBOOST_VERSIONS.join(', ')}; ` +
  `the legacy xgboost:1; or kiln/xgboost[:<version>], e.g. kiln/xgboost:${XGBOOST_DEFAULT_VERSION}) ` +
  `and framework images in script mode (sagemaker-scikit-learn, pytorch-training/-inference, tensorflow-training/-inference ` +
  `as image_uris.retrieve returns them, or kiln/sklearn, kiln/pytorch, kiln/tensorflow, kiln/python, kiln/node)`;

const unknown = (uri: string, why?: string): UnknownImage => ({
  kind: 'unknown',
  reason: why
    ? `Kiln cannot run image '${uri}': ${why}. ${supported}.`
    : `Kiln cannot run image '${uri}': only the built-in XGBoost images and framework images are supported. ${supported}.`,
});

/** The container version an XGBoost image tag names, or why it names none Kiln runs. */
function xgboostVersion(tag: string): { version: string } | { why: string } {
  const m = /^(\d+\.\d+-\d+)(-cpu-py3|-arm64)?$/.exec(tag);
  const version = m?.[1];
  if (version && (XGBOOST_VERSIONS as readonly string[]).includes(version)) {
    if (m[2] === '-arm64' && !ARM64_TAGGED.has(version)) return { why: `SageMaker publishes no arm64 XGBoost ${version} image` };
    return { version };
  }
  if (version && XGBOOST_KNOWN_UNSUPPORTED.includes(version)) {
    return { why: `XGBoost container version ${version} is not supported by Kiln yet (supported: ${XGBOOST_VERSIONS.join(', ')})` };
  }
  return { why: `'${tag}' is not an XGBoost container version Kiln supports (supported: ${XGBOOST_VERSIONS.join(', ')})` };
}

/** Decides what a training image URI runs as. */
export function resolveImage(uri: string): ResolvedImage {
  const image = uri.trim();
  const framework = resolveFrameworkImage(image);
  if (framework) return framework.kind === 'framework' ? framework : unknown(image, framework.why);
  const builtin = (version: string): BuiltinImage => ({ kind: 'builtin', algorithm: 'xgboost', version });

  const alias = KILN_ALIAS.exec(image);
  if (alias) {
    const tag = alias[1];
    if (tag === undefined || tag === 'latest') return builtin(XGBOOST_DEFAULT_VERSION);
    const v = xgboostVersion(tag);
    return 'version' in v ? builtin(v.version) : unknown(image, v.why);
  }

  const ecr = ECR_IMAGE.exec(image);
  if (!ecr) return unknown(image);
  const [, account = '', region = '', domain = '', repository = '', tag] = ecr;
  if (repository !== 'sagemaker-xgboost' && repository !== 'xgboost') {
    return unknown(image, `repository '${repository}' is neither a built-in algorithm Kiln implements nor a framework image`);
  }
  const accounts = XGBOOST_REGISTRIES[region];
  if (!accounts) return unknown(image, `SageMaker publishes no XGBoost image in region '${region}'`);
  if (domain !== ecrDomain(region)) {
    return unknown(image, `ECR in ${region} is at ${ecrDomain(region)}, not ${domain}`);
  }

  if (repository === 'xgboost') {
    const expected = accounts[1];
    if (!expected) return unknown(image, `SageMaker publishes no legacy XGBoost 0.72 image in ${region}`);
    if (account !== expected) {
      return unknown(image, `${account} is not SageMaker's registry for the legacy XGBoost image in ${region} (expected ${expected})`);
    }
    if (tag !== undefined && tag !== '1' && tag !== 'latest') {
      return unknown(image, `the legacy XGBoost image has the tags 1 and latest, not '${tag}'; for newer versions use ${xgboostImageUri(region)}`);
    }
    return builtin(LEGACY_VERSION);
  }

  if (account !== accounts[0]) {
    return unknown(image, `${account} is not SageMaker's XGBoost registry for ${region} (expected ${accounts[0]})`);
  }
  if (tag === undefined) return unknown(image, `the image names no version; use e.g. ${xgboostImageUri(region)}`);
  const v = xgboostVersion(tag);
  return 'version' in v ? builtin(v.version) : unknown(image, v.why);
}
