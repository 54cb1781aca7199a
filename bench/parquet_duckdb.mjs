// DuckDB's Parquet writer on a comparable table: ROWS rows of COLS DOUBLE
// columns (uniform random, or telco-like: 4 gaussian + 0/1 columns) plus an
// INTEGER target; times COPY (SELECT ...) TO 'x.parquet' per codec.
// usage: node parquet_duckdb.mjs ROWS COLS random|telco OUT.parquet [codec...]
import { DuckDBInstance } from '@duckdb/node-api'

const [rows, cols, kind, out, ...codecsArg] = process.argv.slice(2)
const codecs = codecsArg.length ? codecsArg : ['zstd']
const inst = await DuckDBInstance.create(':memory:')
const conn = await inst.connect()
const exprs = []
for (let j = 0; j < Number(cols); j++) {
  if (kind === 'random') exprs.push(`random() AS c${j}`)
  else if (j < 4) exprs.push(`sqrt(-2 * ln(random() + 1e-300)) * cos(2 * pi() * random()) AS c${j}`)
  else exprs.push(`(random() < 0.3)::DOUBLE AS c${j}`)
}
exprs.push('(random() < 0.265)::INTEGER AS "Churn"')
await conn.run(`CREATE TABLE t AS SELECT ${exprs.join(', ')} FROM range(${Number(rows)})`)
const threads = (await conn.runAndReadAll("SELECT current_setting('threads')")).getRows()[0][0]
const q = (s) => "'" + s.replace(/'/g, "''") + "'"
const { statSync } = await import('node:fs')
for (const codec of codecs) {
  const c = codec === 'none' ? 'uncompressed' : codec
  const t0 = process.hrtime.bigint()
  await conn.run(`COPY (SELECT * FROM t) TO ${q(out)} (FORMAT parquet, COMPRESSION ${c})`)
  const dt = Number(process.hrtime.bigint() - t0) / 1e9
  const rawMb = Number(rows) * (Number(cols) * 8 + 4) / 1e6
  console.log(JSON.stringify({
    writer: 'duckdb', kind, codec, rows: Number(rows), cols: Number(cols) + 1, threads: Number(threads),
    seconds: +dt.toFixed(3), raw_mb: +rawMb.toFixed(1), mb_per_s: +(rawMb / dt).toFixed(1),
    file_mb: +(statSync(out).size / 1e6).toFixed(1),
  }))
}
