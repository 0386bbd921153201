/** Table types of the metadata database, shared by every backend (SQLite now, PostgreSQL later). */
export interface ResourceTagTable {
  resource_arn: string;
  tag_key: string;
  tag_value: string;
}

export interface KilnInfoTable {
  key: string;
  value: string;
}

export interface MetadataSchema {
  resource_tags: ResourceTagTable;
  kiln_info: KilnInfoTable;
}
