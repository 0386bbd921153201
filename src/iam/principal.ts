/** Who a request acts as, once its signature is verified. */
export interface Principal {
  arn: string;
  accountId: string;
  /** What STS GetCallerIdentity answers as UserId. */
  userId: string;
  accessKeyId: string;
  kind: 'root' | 'user' | 'assumed-role';
}
