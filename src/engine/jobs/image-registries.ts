/**
 * Where SageMaker publishes its built-in XGBoost images: the ECR registry account per
 * region, as listed in the SageMaker Python SDK's image URI config
 * (`image_uri_config/xgboost.json`, identical for training and inference), and the ECR
 * domain of each partition. Facts, not code: update them from the SDK when AWS adds regions.
 */

/** region → [account of `sagemaker-xgboost` (0.90-1 and later), account of the legacy `xgboost` (0.72) where published]. */
export const XGBOOST_REGISTRIES: Readonly<Record<string, readonly [current: string, legacy?: string]>> = {
  'af-south-1': ['510948584623', '455444449433'],
  'ap-east-1': ['651117190479', '286214385809'],
  'ap-northeast-1': ['354813040037', '501404015308'],
  'ap-northeast-2': ['366743142698', '306986355934'],
  'ap-northeast-3': ['867004704886', '867004704886'],
  'ap-south-1': ['720646828776', '991648021394'],
  'ap-south-2': ['628508329040', '628508329040'],
  'ap-southeast-1': ['121021644041', '475088953585'],
  'ap-southeast-2': ['783357654285', '544295431143'],
  'ap-southeast-3': ['951798379941', '951798379941'],
  'ap-southeast-4': ['106583098589', '106583098589'],
  'ca-central-1': ['341280168497', '469771592824'],
  'ca-west-1': ['190319476487'],
  'cn-north-1': ['450853457545', '390948362332'],
  'cn-northwest-1': ['451049120500', '387376663083'],
  'eu-central-1': ['492215442770', '813361260812'],
  'eu-central-2': ['680994064768', '680994064768'],
  'eu-north-1': ['662702820516', '669576153137'],
  'eu-south-1': ['978288397137', '257386234256'],
  'eu-south-2': ['104374241257', '104374241257'],
  'eu-west-1': ['141502667606', '685385470294'],
  'eu-west-2': ['764974769150', '644912444149'],
  'eu-west-3': ['659782779980', '749696950732'],
  'il-central-1': ['898809789911'],
  'me-central-1': ['272398656194', '272398656194'],
  'me-south-1': ['801668240914', '249704162688'],
  'sa-east-1': ['737474898029', '855470959533'],
  'us-east-1': ['683313688378', '811284229777'],
  'us-east-2': ['257758044811', '825641698319'],
  'us-gov-east-1': ['237065988967', '237065988967'],
  'us-gov-west-1': ['414596584902', '226302683700'],
  'us-iso-east-1': ['833128469047', '490574956308'],
  'us-isob-east-1': ['281123927165', '765400339828'],
  'us-isof-east-1': ['108575199400'],
  'us-isof-south-1': ['124985052026'],
  'us-west-1': ['746614075791', '632365934929'],
  'us-west-2': ['246618743249', '433757028032'],
};

/** ECR's DNS domain by region prefix (botocore's endpoint data); every other region uses amazonaws.com. */
const ECR_DOMAINS: readonly (readonly [regionPrefix: string, domain: string])[] = [
  ['cn-', 'amazonaws.com.cn'],
  ['us-iso-', 'c2s.ic.gov'],
  ['us-isob-', 'sc2s.sgov.gov'],
  ['us-isof-', 'csp.hci.ic.gov'],
];

export function ecrDomain(region: string): string {
  return ECR_DOMAINS.find(([prefix]) => region.startsWith(prefix))?.[1] ?? 'amazonaws.com';
}
