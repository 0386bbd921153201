import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DuckSession } from './duck.ts';

test('a fork of a DuckDB session sees its tables, variables and search path; a session closing closes its forks', async () => {
  const duck = await DuckSession.open({ threads: 1 });
  const other = await DuckSession.open({ threads: 1 });
  try {
    await duck.run('CREATE TABLE t AS SELECT range AS x FROM range(5)');
    await duck.run('CREATE SCHEMA extra');
    await duck.run('CREATE TABLE extra.u AS SELECT 7 AS y');
    await duck.run(`SET VARIABLE limit_x = (SELECT max(x) - 1 FROM t)`);
    await duck.run(`SET search_path = 'main,extra'`);
    const fork = await duck.fork();
    assert.deepEqual(await fork.query('SELECT count(*) AS n FROM t WHERE x <= getvariable(\'limit_x\')'), [{ n: 4 }]);
    assert.deepEqual(await fork.query('SELECT y FROM u'), [{ y: 7 }]);
    await assert.rejects(other.query('SELECT * FROM t'), /Table with name t does not exist/);
    await duck.close();
    await assert.rejects(fork.query('SELECT 1'), /closed|Connection/i);
  } finally {
    await duck.close();
    await other.close();
  }
});
