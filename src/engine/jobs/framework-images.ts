/**
 * Framework images in script mode: the image URIs the SageMaker Python SDK returns for
 * scikit-learn, PyTorch and TensorFlow (`image_uris.retrieve(framework, region, version,
 * image_scope=...)`), which Kiln runs on the machine's own interpreter instead of a container:
 *
 *   683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-scikit-learn:1.2-1-cpu-py3
 *   763104351884.dkr.ecr.us-east-1.amazonaws.com/pytorch-training:2.0.0-cpu-py310
 *   763104351884.dkr.ecr.us-east-1.amazonaws.com/tensorflow-inference:2.13.0-cpu
 *   520713654638.dkr.ecr.us-east-1.amazonaws.com/sagemaker-pytorch:1.1.0-cpu-py3   (pre-DLC)
 *
 * and Kiln's own short names, the same in every region: kiln/sklearn, kiln/pytorch,
 * kiln/tensorflow, kiln/python (the interpreter alone) and kiln/node (the Node runtime for
 * .js/.ts entry points). The XGBoost image is resolved in images.ts: it runs the built-in
 * algorithm unless the job names a script (sagemaker_program), as SageMaker's does.
 */
import { DLC_REGISTRIES, ecrDomain, LEGACY_FRAMEWORK_REGISTRIES, XGBOOST_REGISTRIES } from './image-registries.ts';

export type Framework = 'sklearn' | 'pytorch' | 'tensorflow' | 'xgboost' | 'python' | 'node';

export interface FrameworkImage {
  kind: 'framework';
  framework: Framework;
  /** The framework version the tag names ('' for Kiln's aliases without a tag). */
  version: string;
}

/** The Python module a framework image promises; the interpreter must be able to import it. */
export const FRAMEWORK_MODULE: Record<Framework, string | undefined> = {
  sklearn: 'sklearn',
  pytorch: 'torch',
  tensorflow: 'tensorflow',
  xgboost: 'xgboost',
  python: undefined,
  node: undefined,
};

const ALIASES: Record<string, Framework> = {
  sklearn: 'sklearn',
  'scikit-learn': 'sklearn',
  pytorch: 'pytorch',
  tensorflow: 'tensorflow',
  python: 'python',
  node: 'node',
};

/** ECR repository → framework and whose registry publishes it. */
const REPOSITORIES: Record<string, { framework: Framework; registry: 'xgboost' | 'dlc' | 'legacy' }> = {
  'sagemaker-scikit-learn': { framework: 'sklearn', registry: 'xgboost' },
  'pytorch-training': { framework: 'pytorch', registry: 'dlc' },
  'pytorch-inference': { framework: 'pytorch', registry: 'dlc' },
  'tensorflow-training': { framework: 'tensorflow', registry: 'dlc' },
  'tensorflow-inference': { framework: 'tensorflow', registry: 'dlc' },
  'sagemaker-pytorch': { framework: 'pytorch', registry: 'legacy' },
  'sagemaker-tensorflow': { framework: 'tensorflow', registry: 'legacy' },
  'sagemaker-tensorflow-scriptmode': { framework: 'tensorflow', registry: 'legacy' },
  'sagemaker-tensorflow-serving': { framework: 'tensorflow', registry: 'legacy' },
};

const ECR_IMAGE = /^(\d{12})\.dkr\.ecr\.([a-z0-9-]+)\.([a-z0-9.-]+?)\/([a-z0-9][a-z0-9._/-]*)(?::([A-Za-z0-9_][A-Za-z0-9_.-]*))?$/;
const KILN_ALIAS = /^kiln\/([a-z-]+)(?::([A-Za-z0-9_][A-Za-z0-9_.-]*))?$/;
/** The framework version at the start of a tag: 1.2-1-cpu-py3 → 1.2-1, 2.0.0-gpu-py310-cu118-ubuntu20.04-sagemaker → 2.0.0. */
const TAG_VERSION = /^(\d+\.\d+(?:\.\d+)?(?:-\d+)?)(?:-[A-Za-z0-9_.-]+)?$/;

export type FrameworkResolution = FrameworkImage | { kind: 'unknown'; why: string } | undefined;

function registryAccount(registry: 'xgboost' | 'dlc' | 'legacy', region: string): string | undefined {
  if (registry === 'xgboost') return XGBOOST_REGISTRIES[region]?.[0];
  return (registry === 'dlc' ? DLC_REGISTRIES : LEGACY_FRAMEWORK_REGISTRIES)[region];
}

/** A framework image, a reason it is not one Kiln runs, or undefined when the URI names no framework repository. */
export function resolveFrameworkImage(image: string): FrameworkResolution {
  const alias = KILN_ALIAS.exec(image);
  if (alias) {
    const framework = ALIASES[alias[1]!];
    if (!framework) return undefined;
    const tag = alias[2];
    return { kind: 'framework', framework, version: tag === undefined || tag === 'latest' ? '' : tag };
  }
  const ecr = ECR_IMAGE.exec(image);
  if (!ecr) return undefined;
  const [, account = '', region = '', domain = '', repository = '', tag] = ecr;
  const known = REPOSITORIES[repository];
  if (!known) return undefined;
  const expected = registryAccount(known.registry, region);
  if (!expected) return { kind: 'unknown', why: `SageMaker publishes no ${repository} image in region '${region}'` };
  if (domain !== ecrDomain(region)) return { kind: 'unknown', why: `ECR in ${region} is at ${ecrDomain(region)}, not ${domain}` };
  if (account !== expected) return { kind: 'unknown', why: `${account} is not SageMaker's ${repository} registry for ${region} (expected ${expected})` };
  if (tag === undefined) return { kind: 'unknown', why: `the image names no version tag (e.g. ${repository}:<version>-cpu-py3)` };
  const version = TAG_VERSION.exec(tag)?.[1];
  if (!version) return { kind: 'unknown', why: `'${tag}' is not a ${repository} version tag` };
  return { kind: 'framework', framework: known.framework, version };
}

/** What a runtime is called in messages. */
export function frameworkLabel(framework: Framework): string {
  return { sklearn: 'scikit-learn', pytorch: 'PyTorch', tensorflow: 'TensorFlow', xgboost: 'XGBoost', python: 'Python', node: 'Node' }[framework];
}
