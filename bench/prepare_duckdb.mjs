// DuckDB peer of `churn prepare` (bench/prepare.sh): the raw CSV straight to
// Parquet, COPY (SELECT * FROM read_csv(...)) TO 'x.parquet'. No feature
// work at all: a floor for "read + write Parquet".
// usage: node prepare_duckdb.mjs IN.csv OUT.parquet
import { DuckDBInstance } from '@duckdb/node-api'

const [src, out] = process.argv.slice(2)
const q = (s) => "'" + s.replace(/'/g, "''") + "'"
const t0 = process.hrtime.bigint()
const inst = await DuckDBInstance.create(':memory:')
const conn = await inst.connect()
const threads = (await conn.runAndReadAll("SELECT current_setting('threads')")).getRows()[0][0]
const t1 = process.hrtime.bigint()
await conn.run(`COPY (SELECT * FROM read_csv(${q(src)})) TO ${q(out)} (FORMAT parquet)`)
const t2 = process.hrtime.bigint()
console.log(JSON.stringify({
  tool: 'duckdb', threads: Number(threads), startup_s: +(Number(t1 - t0) / 1e9).toFixed(3),
  copy_s: +(Number(t2 - t1) / 1e9).toFixed(3),
}))
