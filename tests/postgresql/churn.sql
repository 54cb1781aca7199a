-- pg_regress-style checks of the churn extension (run by tests/test-postgresql.py with
-- psql -X -a -q -v artifact=<a gbm artifact trained on `churn synth --rows 600 --seed 7`>).
CREATE EXTENSION churn;
\dx churn
SELECT churn.load_model('gbm', :'artifact'::jsonb);
SELECT churn.load_model('gbm', :'artifact'::jsonb);
SELECT name, version, length(sha256) FROM churn.models ORDER BY version;
-- a customer as jsonb: names in any case, blank text in a numeric column is missing
SELECT round(churn.score('gbm', '{"tenure": 2, "contract": "Month-to-month", "internetservice": "Fiber optic", "totalcharges": " "}'::jsonb)::numeric, 6) AS p;
SELECT churn.score('gbm', '{"tenure": 2, "contract": "Month-to-month", "internetservice": "Fiber optic", "totalcharges": " "}'::jsonb)
     = churn.score('gbm', '{"Tenure": 2, "Contract": "Month-to-month", "InternetService": "Fiber optic"}'::jsonb) AS same;
SELECT churn.label('gbm', '{"tenure": 70, "contract": "Two year"}'::jsonb);
SELECT jsonb_array_length(e->'reasons') <= 3 AS at_most_3, e ? 'probability' AS has_p, e->>'model' AS model
  FROM churn.explain('gbm', '{"tenure": 1, "contract": "Month-to-month"}'::jsonb) AS e;
-- a whole row: the record form reads the attributes directly
CREATE TABLE customers (customerID text, tenure integer, Contract text, InternetService varchar(20),
                        MonthlyCharges numeric, TotalCharges text, SeniorCitizen boolean, note text);
INSERT INTO customers VALUES ('a', 2, 'Month-to-month', 'Fiber optic', 70.7, '151.65', false, 'x'),
                             ('b', 60, 'Two year', 'DSL', 55.2, ' ', true, NULL),
                             ('c', NULL, NULL, NULL, NULL, NULL, NULL, NULL);
SELECT customerid, churn.score('gbm', c) = churn.score('gbm', to_jsonb(c)) AS record_is_jsonb,
       churn.label('gbm', c) = churn.label('gbm', to_jsonb(c)) AS labels_agree,
       churn.explain('gbm', c) = churn.explain('gbm', to_jsonb(c)) AS reasons_agree
  FROM customers c ORDER BY 1;
SELECT count(*) FROM customers c WHERE churn.score('gbm', c) BETWEEN 0 AND 1;
-- the planner hands a whole row of a table over as its columns (0.3): no row value is built per customer
EXPLAIN (VERBOSE, COSTS OFF) SELECT churn.score('gbm', c), churn.label('gbm', c) FROM customers c;
EXPLAIN (VERBOSE, COSTS OFF) SELECT churn.score_version('gbm@1', c) FROM customers c;
-- ... not where the row may be NULL (an outer join's nullable side): a NULL row is NULL (STRICT)
EXPLAIN (VERBOSE, COSTS OFF) SELECT churn.score('gbm', c) FROM (VALUES (1)) v(x) LEFT JOIN customers c ON false;
SELECT churn.score('gbm', c) IS NULL AS null_row, churn.label('gbm', c) IS NULL AS null_label
  FROM (VALUES (1)) v(x) LEFT JOIN customers c ON false;
-- the same answers as the row value (a subquery kept whole by OFFSET 0 passes one)
SELECT c.customerid, churn.score('gbm', c) = churn.score('gbm', d) AS same_score,
       churn.label('gbm', c) = churn.label('gbm', d) AS same_label
  FROM customers c JOIN (SELECT * FROM customers OFFSET 0) d USING (customerid) ORDER BY 1;
-- a dropped column is not passed; a table with none of the model's columns fails as the row form does
ALTER TABLE customers DROP COLUMN note;
SELECT count(*) FROM customers c WHERE churn.score('gbm', c) = churn.score('gbm', to_jsonb(c));
CREATE TABLE other (a integer, b text);
INSERT INTO other VALUES (1, 'x');
SELECT churn.score('gbm', o) FROM other o;
SELECT churn.score('gbm', o) FROM (SELECT * FROM other OFFSET 0) o;
-- values stored out of line or compressed (TOAST) are read as any other
CREATE TABLE toasted (customerid text, contract text, internetservice text, tenure numeric);
ALTER TABLE toasted ALTER contract SET STORAGE EXTERNAL;
INSERT INTO toasted VALUES ('t1', repeat('Month-to-month', 300), repeat('Fiber optic', 3000), 12),
                           ('t2', 'Two year', 'DSL', ('1' || repeat('0', 5000))::numeric);
SELECT customerid, length(contract), pg_column_size(contract) < length(contract) AS contract_compressed,
       pg_column_size(internetservice) < length(internetservice) AS internet_compressed,
       churn.score('gbm', t) = churn.score('gbm', to_jsonb(t)) AS same
  FROM toasted t WHERE customerid = 't1';
SELECT churn.score('gbm', t) FROM toasted t WHERE customerid = 't2';
DROP TABLE toasted;
-- more than 49 columns do not fit in a function call's 100 arguments: the row value is passed
SELECT format('CREATE TABLE wide (tenure integer, %s)', string_agg(format('x%s integer', i), ', '))
  FROM generate_series(1, 60) i \gexec
INSERT INTO wide (tenure) VALUES (3);
EXPLAIN (VERBOSE, COSTS OFF) SELECT churn.score('gbm', w) FROM wide w;
SELECT churn.score('gbm', w) = churn.score('gbm', '{"tenure": 3}'::jsonb) AS wide_same FROM wide w;
DROP TABLE other, wide;
-- numeric values are read as the nearest double, as numeric::float8 does (a fast path for short ones)
SELECT count(*) AS numerics, count(*) FILTER (WHERE churn._float8(v) IS DISTINCT FROM v::float8) AS differ
  FROM (SELECT round((random() - 0.5)::numeric * 10::numeric ^ (i % 40 - 20), i % 25) AS v
          FROM generate_series(1, 100000) i
        UNION ALL SELECT (floor(random() * 10 ^ (i % 17)) * (CASE WHEN i % 2 = 0 THEN -1 ELSE 1 END))::numeric
                         * 10::numeric ^ (i % 51 - 30)
          FROM generate_series(1, 100000) i
        UNION ALL SELECT unnest(ARRAY[0, -0.0, 29.85, 1e22, 1e23, 123456789012345678, 0.1, -7e-23, 1e-300, 9007199254740993,
                                      '12345678901234567890.123'::numeric])) t;
SELECT churn._float8('NaN') IS NULL AS nan_is_missing, churn._float8('Infinity') AS inf;
-- an untyped literal is a jsonb customer
SELECT churn.score('gbm', '{"tenure": 2}') = churn.score('gbm', '{"tenure": 2}'::jsonb) AS literal_is_jsonb;
-- errors
SELECT churn.score('gbm', ROW(1, 'x'));
SELECT churn.load_model(repeat('x', 101), :'artifact'::jsonb);
SELECT churn.score('nope', '{}'::jsonb);
SELECT churn.score('gbm', '[1, 2]'::jsonb);
SELECT churn.score('gbm', '{"tenure": "twelve"}'::jsonb);
SELECT churn.score('gbm', '{"tenure": {"a": 1}}'::jsonb);
SELECT churn.score('gbm', '{"churn": "maybe"}'::jsonb);
SELECT churn.explain('gbm', '{}'::jsonb, -1);
SELECT churn.load_model('broken', '{"format": "not a model"}'::jsonb);
-- STRICT: NULL in, NULL out
SELECT churn.score('gbm', NULL::jsonb) IS NULL AS is_null;
-- the functions' properties
SELECT proname, provolatile, proparallel, proisstrict FROM pg_proc
 WHERE pronamespace = 'churn'::regnamespace AND proname IN ('score', 'label', 'explain')
 ORDER BY proname, pg_get_function_arguments(oid);
DROP TABLE customers;
DROP EXTENSION churn;
