#!/usr/bin/env node
// Independent read-back of Parquet files for tests/test-parquet.c.
//
// usage: node parquet-read.mjs FILE...
// Prints one JSON document: {"files": [{"path", "duckdb": {...}, "hyparquet": {...}}]}.
// DOUBLE values are printed as the 16 hex digits of their IEEE-754 bits (so
// the C test compares them bit-exactly), INT32 as numbers, strings as
// strings, nulls as null.
//
// Node resolves the packages from the node_modules next to this script's
// directories (tests/../node_modules), whatever the cwd. Exit status 77 (with
// a message on stderr) when node packages are missing: the caller skips.
import { readFileSync } from 'node:fs'
import { spawnSync } from 'node:child_process'

let duckdb, hyparquet
try {
  duckdb = await import('@duckdb/node-api')
  hyparquet = await import('hyparquet')
} catch (e) {
  process.stderr.write(`parquet-read: node packages missing (${e.message}); run scripts/deps.sh\n`)
  process.exit(77)
}

const hexOf = (x) => {
  const dv = new DataView(new ArrayBuffer(8))
  dv.setFloat64(0, x, true)
  return dv.getBigUint64(0, true).toString(16).padStart(16, '0')
}
const sqlStr = (s) => "'" + s.replace(/'/g, "''") + "'"
const plain = (v) => (typeof v === 'bigint' ? Number(v) : v)

async function readDuck(conn, path) {
  const f = sqlStr(path)
  const res = await conn.runAndReadAll(`SELECT * FROM read_parquet(${f})`)
  const names = res.columnNames()
  const types = res.columnTypes().map((t) => t.toString())
  const rows = res.getRows().map((r) => r.map((v, j) => {
    if (v === null) return null
    if (types[j] === 'DOUBLE') return hexOf(v)
    return plain(v)
  }))
  const meta = await conn.runAndReadAll(
    `SELECT row_group_id, row_group_num_rows, column_id, path_in_schema, type, num_values,
            stats_min_value, stats_max_value, stats_null_count, compression, encodings
     FROM parquet_metadata(${f}) ORDER BY row_group_id, column_id`)
  const schema = await conn.runAndReadAll(
    `SELECT name, type, repetition_type, converted_type, logical_type FROM parquet_schema(${f})`)
  const fm = await conn.runAndReadAll(
    `SELECT created_by, num_rows, num_row_groups, format_version FROM parquet_file_metadata(${f})`)
  const kv = await conn.runAndReadAll(
    `SELECT decode(key) AS key, decode(value) AS value FROM parquet_kv_metadata(${f})`)
  const objs = (r) => r.getRowObjects().map((o) => Object.fromEntries(
    Object.entries(o).map(([k, v]) => [k, v === null ? null : (typeof v === 'object' ? String(v) : plain(v))])))
  return {
    columns: names.map((n, j) => ({ name: n, type: types[j] })),
    rows,
    metadata: objs(meta),
    schema: objs(schema),
    file: objs(fm)[0],
    kv: objs(kv),
  }
}

// hyparquet has no zstd decoder: use the zstd command when it is there.
const haveZstd = spawnSync('zstd', ['--version']).status === 0
const compressors = {
  ZSTD: (input, outputLength) => {
    const r = spawnSync('zstd', ['-d', '-c', '-q'], { input, maxBuffer: outputLength + 1024 })
    if (r.status !== 0) throw new Error('zstd -d failed: ' + r.stderr)
    return new Uint8Array(r.stdout.buffer, r.stdout.byteOffset, r.stdout.length)
  },
}

async function readHyp(path) {
  const buf = readFileSync(path)
  const file = buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.length)
  const md = hyparquet.parquetMetadata(file)
  const leaves = md.schema.slice(1)
  const usesZstd = md.row_groups.some((g) => g.columns.some((c) => c.meta_data.codec === 'ZSTD'))
  const out = {
    num_rows: Number(md.num_rows),
    version: md.version,
    created_by: md.created_by ?? null,
    schema: leaves.map((s) => ({
      name: s.name, type: s.type, repetition_type: s.repetition_type,
      converted_type: s.converted_type ?? null, logical_type: s.logical_type?.type ?? null,
    })),
    row_groups: md.row_groups.map((g) => ({
      num_rows: Number(g.num_rows),
      columns: g.columns.map((c, j) => {
        const m = c.meta_data
        const st = m.statistics ?? {}
        const conv = (v) => {
          if (v === undefined || v === null) return null
          if (leaves[j].type === 'DOUBLE') return hexOf(v)
          return plain(v)
        }
        return {
          path: m.path_in_schema.join('.'), type: m.type, codec: m.codec, num_values: Number(m.num_values),
          encodings: m.encodings,
          min_value: conv(st.min_value), max_value: conv(st.max_value),
          null_count: st.null_count === undefined ? null : Number(st.null_count),
        }
      }),
    })),
    kv: (md.key_value_metadata ?? []).map((e) => ({ key: e.key, value: e.value ?? null })),
    rows: null,
  }
  if (usesZstd && !haveZstd) {
    out.skipped = 'no zstd command for hyparquet'
    return out
  }
  const rows = await hyparquet.parquetReadObjects({ file, compressors, rowFormat: 'array' })
  out.rows = rows.map((r) => (Array.isArray(r) ? r : Object.values(r)).map((v, j) => {
    if (v === null || v === undefined) return null
    if (leaves[j].type === 'DOUBLE') return hexOf(v)
    return plain(v)
  }))
  return out
}

const files = process.argv.slice(2)
if (!files.length) {
  process.stderr.write('usage: node parquet-read.mjs FILE...\n')
  process.exit(64)
}
const inst = await duckdb.DuckDBInstance.create(':memory:')
const conn = await inst.connect()
const result = { files: [] }
for (const path of files) {
  const entry = { path }
  try {
    entry.duckdb = await readDuck(conn, path)
  } catch (e) {
    entry.duckdb = { error: String(e.message ?? e) }
  }
  try {
    entry.hyparquet = await readHyp(path)
  } catch (e) {
    entry.hyparquet = { error: String(e.message ?? e) }
  }
  result.files.push(entry)
}
process.stdout.write(JSON.stringify(result) + '\n')
