// DuckDB read_csv on FILE with THREADS threads (default 2): CREATE TABLE t AS
// SELECT * FROM read_csv('FILE'); prints '<rows> <cols> <seconds>' (the query
// only; bench/parse.sh times the whole process for wall time and peak RSS).
// usage: node parse_duckdb.mjs FILE [THREADS]
import { DuckDBInstance } from '@duckdb/node-api'

const [file, threads = '2'] = process.argv.slice(2)
const inst = await DuckDBInstance.create(':memory:', { threads: String(threads) })
const conn = await inst.connect()
const q = (s) => "'" + s.replace(/'/g, "''") + "'"
const t0 = process.hrtime.bigint()
await conn.run(`CREATE TABLE t AS SELECT * FROM read_csv(${q(file)})`)
const dt = Number(process.hrtime.bigint() - t0) / 1e9
const rows = (await conn.runAndReadAll('SELECT count(*) FROM t')).getRows()[0][0]
const cols = (await conn.runAndReadAll("SELECT count(*) FROM information_schema.columns WHERE table_name = 't'")).getRows()[0][0]
console.log(`${rows} ${cols} ${dt.toFixed(3)}`)
