/** Quoting helpers for the SQL the flow compiler writes. Every user-supplied name or value goes through these. */

export const ident = (name: string): string => `"${name.replace(/"/g, '""')}"`;

export const literal = (value: string | number | boolean | null): string => {
  if (value === null) return 'NULL';
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new Error(`not a finite number: ${value}`);
    return String(value);
  }
  if (typeof value === 'boolean') return value ? 'TRUE' : 'FALSE';
  return `'${value.replace(/'/g, "''")}'`;
};

export const stringList = (values: string[]): string => `[${values.map(literal).join(', ')}]`;

const NUMERIC = /^(TINYINT|SMALLINT|INTEGER|BIGINT|HUGEINT|UTINYINT|USMALLINT|UINTEGER|UBIGINT|UHUGEINT|FLOAT|DOUBLE|REAL|DECIMAL(\(\d+,\s*\d+\))?)$/i;
export const isNumericType = (type: string): boolean => NUMERIC.test(type);
export const isIntegerType = (type: string): boolean => /INT/i.test(type) && isNumericType(type);
export const isTextType = (type: string): boolean => /^(VARCHAR|TEXT|STRING)$/i.test(type);
export const isTemporalType = (type: string): boolean => /^(DATE|TIMESTAMP.*|TIME)$/i.test(type);

/** A safe SQL type name for explicit type changes: DuckDB's types plus the names Data Wrangler shows. */
const TYPE_ALIASES: Record<string, string> = {
  string: 'VARCHAR', text: 'VARCHAR', varchar: 'VARCHAR',
  long: 'BIGINT', bigint: 'BIGINT', int: 'INTEGER', integer: 'INTEGER', smallint: 'SMALLINT', tinyint: 'TINYINT',
  float: 'DOUBLE', double: 'DOUBLE', fractional: 'DOUBLE', real: 'FLOAT',
  bool: 'BOOLEAN', boolean: 'BOOLEAN',
  date: 'DATE', datetime: 'TIMESTAMP', timestamp: 'TIMESTAMP', time: 'TIME',
};

export function sqlType(name: string): string {
  const alias = TYPE_ALIASES[name.trim().toLowerCase()];
  if (alias) return alias;
  const decimal = /^decimal\s*\(\s*(\d{1,2})\s*,\s*(\d{1,2})\s*\)$/i.exec(name.trim());
  if (decimal) return `DECIMAL(${decimal[1]}, ${decimal[2]})`;
  throw new Error(`unknown type '${name}'; use one of ${Object.keys(TYPE_ALIASES).join(', ')} or decimal(p,s)`);
}
