/**
 * Where SageMaker publishes its XGBoost (and scikit-learn) images: the ECR registry account per
 * region, as listed in the SageMaker Python SDK's image URI config
 * (`image_uri_config/xgboost.json`, identical for training and inference), and the ECR
 * domain of each partition. Facts, not code: update them from the SDK when AWS adds regions.
 */

/**
 * region → [account of `sagemaker-xgboost` (0.90-1 and later), account of the legacy `xgboost` (0.72) where published].
 * The first account also publishes `sagemaker-scikit-learn` (the SDK's `sklearn.json` lists the same ones).
 */
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

/**
 * region → account of the AWS Deep Learning Containers (`pytorch-training`, `pytorch-inference`,
 * `tensorflow-training`, `tensorflow-inference`), as the SDK's `pytorch.json` and `tensorflow.json`
 * list them (the same account for both frameworks and both scopes).
 */
export const DLC_REGISTRIES: Readonly<Record<string, string>> = {
  'af-south-1': '626614931356',
  'ap-east-1': '871362719292',
  'ap-east-2': '975050140332',
  'ap-northeast-1': '763104351884',
  'ap-northeast-2': '763104351884',
  'ap-northeast-3': '364406365360',
  'ap-south-1': '763104351884',
  'ap-south-2': '772153158452',
  'ap-southeast-1': '763104351884',
  'ap-southeast-2': '763104351884',
  'ap-southeast-3': '907027046896',
  'ap-southeast-4': '457447274322',
  'ap-southeast-5': '550225433462',
  'ap-southeast-6': '633930458069',
  'ap-southeast-7': '590183813437',
  'ca-central-1': '763104351884',
  'ca-west-1': '204538143572',
  'cn-north-1': '727897471807',
  'cn-northwest-1': '727897471807',
  'eu-central-1': '763104351884',
  'eu-central-2': '380420809688',
  'eu-north-1': '763104351884',
  'eu-south-1': '692866216735',
  'eu-south-2': '503227376785',
  'eu-west-1': '763104351884',
  'eu-west-2': '763104351884',
  'eu-west-3': '763104351884',
  'il-central-1': '780543022126',
  'me-central-1': '914824155844',
  'me-south-1': '217643126080',
  'mx-central-1': '637423239942',
  'sa-east-1': '763104351884',
  'us-east-1': '763104351884',
  'us-east-2': '763104351884',
  'us-gov-east-1': '446045086412',
  'us-gov-west-1': '442386744353',
  'us-iso-east-1': '886529160074',
  'us-isob-east-1': '094389454867',
  'us-isof-east-1': '303241398832',
  'us-isof-south-1': '454834333376',
  'us-west-1': '763104351884',
  'us-west-2': '763104351884',
};

/** region → account of the pre-DLC framework images (`sagemaker-pytorch`, `sagemaker-tensorflow`, `sagemaker-tensorflow-scriptmode`, `sagemaker-tensorflow-serving`). */
export const LEGACY_FRAMEWORK_REGISTRIES: Readonly<Record<string, string>> = {
  'af-south-1': '313743910680',
  'ap-east-1': '057415533634',
  'ap-northeast-1': '520713654638',
  'ap-northeast-2': '520713654638',
  'ap-south-1': '520713654638',
  'ap-southeast-1': '520713654638',
  'ap-southeast-2': '520713654638',
  'ca-central-1': '520713654638',
  'cn-north-1': '422961961927',
  'cn-northwest-1': '423003514399',
  'eu-central-1': '520713654638',
  'eu-north-1': '520713654638',
  'eu-south-1': '048378556238',
  'eu-west-1': '520713654638',
  'eu-west-2': '520713654638',
  'eu-west-3': '520713654638',
  'me-south-1': '724002660598',
  'sa-east-1': '520713654638',
  'us-east-1': '520713654638',
  'us-east-2': '520713654638',
  'us-gov-west-1': '246785580436',
  'us-iso-east-1': '744548109606',
  'us-isob-east-1': '453391408702',
  'us-west-1': '520713654638',
  'us-west-2': '520713654638',
};
