-- The churn extension, 0.2 -> 0.3: a whole row of a table is scored from its columns. The planner turns
-- churn.score('gbm', c) into churn._score_fields('gbm', 'customerid', c.customerid, 'tenure', c.tenure, ...)
-- (and churn.score_version into churn.score_columns) where the row cannot be NULL, so that no row value is
-- built and taken apart again per customer; the scores are the same (postgresql/churn_pg.c, row_support).
\echo Use "ALTER EXTENSION churn UPDATE TO '0.3'" to load this file. \quit

-- churn.score_columns / label_columns for any model name (the newest version, or a pinned one): STABLE.
CREATE FUNCTION churn._score_fields(model text, VARIADIC columns "any") RETURNS float8
	AS 'MODULE_PATHNAME', 'churn_score_fields' LANGUAGE C STABLE PARALLEL SAFE;
CREATE FUNCTION churn._label_fields(model text, VARIADIC columns "any") RETURNS boolean
	AS 'MODULE_PATHNAME', 'churn_label_fields' LANGUAGE C STABLE PARALLEL SAFE;

CREATE FUNCTION churn._row_support(internal) RETURNS internal
	AS 'MODULE_PATHNAME', 'churn_row_support' LANGUAGE C STRICT;
ALTER FUNCTION churn.score(text, record) SUPPORT churn._row_support;
ALTER FUNCTION churn.label(text, record) SUPPORT churn._row_support;
ALTER FUNCTION churn.score_version(text, record) SUPPORT churn._row_support;
ALTER FUNCTION churn.label_version(text, record) SUPPORT churn._row_support;

-- A numeric as the scoring functions read it (the nearest double; NaN is NULL, a missing value): for tests.
CREATE FUNCTION churn._float8(numeric) RETURNS float8
	AS 'MODULE_PATHNAME', 'churn_numeric_float8' LANGUAGE C STRICT IMMUTABLE PARALLEL SAFE;
