-- The churn extension, 0.1 -> 0.2: published versions are immutable, and IMMUTABLE scoring of a pinned
-- version ("gbm@3"), which postgres_fdw sends to the shards that hold the rows (postgresql/cluster.sh).
\echo Use "ALTER EXTENSION churn UPDATE TO '0.2'" to load this file. \quit

-- A published version never changes: its artifact, hence its scores, are fixed once loaded, which is what
-- makes the _version functions IMMUTABLE. A version is neither updated nor deleted (so its number is never
-- reused for another artifact); TRUNCATE or DROP EXTENSION start over.
CREATE FUNCTION churn._version_is_immutable() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
	RAISE EXCEPTION 'churn: model %@% is published and never changes', OLD.name, OLD.version
		USING ERRCODE = 'object_not_in_prerequisite_state',
		      HINT = 'Load a new version with churn.load_model(name, artifact).';
END
$$;
CREATE TRIGGER version_is_immutable BEFORE UPDATE OR DELETE ON churn.models
	FOR EACH ROW EXECUTE FUNCTION churn._version_is_immutable();

-- "name@N" and "name@vN" address version N of name: such names cannot be loaded.
CREATE OR REPLACE FUNCTION churn.load_model(name text, artifact jsonb) RETURNS integer
LANGUAGE plpgsql STRICT AS $$
DECLARE
	v integer;
BEGIN
	IF length(load_model.name) NOT BETWEEN 1 AND 100 THEN
		RAISE EXCEPTION 'churn: a model name has 1 to 100 characters' USING ERRCODE = 'invalid_parameter_value';
	END IF;
	PERFORM churn._check_artifact(artifact);
	IF load_model.name ~ '.@v?[0-9]+$' THEN
		RAISE EXCEPTION 'churn: a model name cannot end in @N or @vN (that names version N)'
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	-- one writer per name at a time: versions are consecutive
	PERFORM pg_advisory_xact_lock(hashtext('churn.models:' || load_model.name));
	SELECT coalesce(max(m.version), 0) + 1 INTO v FROM churn.models m WHERE m.name = load_model.name;
	INSERT INTO churn.models (name, version, artifact, sha256)
	VALUES (load_model.name, v, artifact, encode(sha256(convert_to(artifact::text, 'UTF8')), 'hex'));
	RETURN v;
END
$$;

-- The probability (label) of a customer by the published version a name pins ('gbm@3'), IMMUTABLE: the
-- planner may fold constant calls, and postgres_fdw ships calls to the remote servers that list the
-- extension (OPTIONS (extensions 'churn')) when their arguments ship too (IMMUTABLE built-ins, columns,
-- constants); a whole-row argument of a foreign table does not ship (its row type is not built in), nor
-- does jsonb_build_object() (STABLE): see churn.score_columns below.
CREATE FUNCTION churn.score_version(model text, customer jsonb) RETURNS float8
	AS 'MODULE_PATHNAME', 'churn_score_version_jsonb' LANGUAGE C STRICT IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION churn.score_version(model text, customer record) RETURNS float8
	AS 'MODULE_PATHNAME', 'churn_score_version_row' LANGUAGE C STRICT IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION churn.label_version(model text, customer jsonb) RETURNS boolean
	AS 'MODULE_PATHNAME', 'churn_label_version_jsonb' LANGUAGE C STRICT IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION churn.label_version(model text, customer record) RETURNS boolean
	AS 'MODULE_PATHNAME', 'churn_label_version_row' LANGUAGE C STRICT IMMUTABLE PARALLEL SAFE;
-- The same with the customer's columns as arguments: churn.score_columns('gbm@3', 'tenure', tenure,
-- 'contract', contract, ...), names then values (read by their types; NULL is missing). This is the form
-- postgres_fdw sends to a shard: every argument is a column or a constant, where the jsonb forms need
-- jsonb_build_object() or to_jsonb(), which are STABLE and so are evaluated where the rows arrive.
CREATE FUNCTION churn.score_columns(model text, VARIADIC columns "any") RETURNS float8
	AS 'MODULE_PATHNAME', 'churn_score_columns' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION churn.label_columns(model text, VARIADIC columns "any") RETURNS boolean
	AS 'MODULE_PATHNAME', 'churn_label_columns' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION churn.score_version(model text, customer text) RETURNS float8
	LANGUAGE sql STRICT IMMUTABLE PARALLEL SAFE AS 'SELECT churn.score_version(model, customer::jsonb)';
CREATE FUNCTION churn.label_version(model text, customer text) RETURNS boolean
	LANGUAGE sql STRICT IMMUTABLE PARALLEL SAFE AS 'SELECT churn.label_version(model, customer::jsonb)';
