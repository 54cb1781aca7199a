-- The churn extension, version 0.1: models in churn.models, scoring functions.
\echo Use "CREATE EXTENSION churn" to load this file. \quit

-- Every version of every model; the newest version of a name is the one scored.
CREATE TABLE churn.models (
	name text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
	version integer NOT NULL,
	artifact jsonb NOT NULL,
	sha256 text NOT NULL,
	created_at timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (name, version)
);
SELECT pg_catalog.pg_extension_config_dump('churn.models', '');

CREATE FUNCTION churn._check_artifact(artifact jsonb) RETURNS void
	AS 'MODULE_PATHNAME', 'churn_check_artifact' LANGUAGE C STRICT PARALLEL SAFE;

-- Store a new version of model "name" (checked: it must load as a scorer); returns the version.
CREATE FUNCTION churn.load_model(name text, artifact jsonb) RETURNS integer
LANGUAGE plpgsql STRICT AS $$
DECLARE
	v integer;
BEGIN
	IF length(load_model.name) NOT BETWEEN 1 AND 100 THEN
		RAISE EXCEPTION 'churn: a model name has 1 to 100 characters' USING ERRCODE = 'invalid_parameter_value';
	END IF;
	PERFORM churn._check_artifact(artifact);
	-- one writer per name at a time: versions are consecutive
	PERFORM pg_advisory_xact_lock(hashtext('churn.models:' || load_model.name));
	SELECT coalesce(max(m.version), 0) + 1 INTO v FROM churn.models m WHERE m.name = load_model.name;
	INSERT INTO churn.models (name, version, artifact, sha256)
	VALUES (load_model.name, v, artifact, encode(sha256(convert_to(artifact::text, 'UTF8')), 'hex'));
	RETURN v;
END
$$;

-- The churn probability of a customer: a JSON object of column values, or a row (its columns read directly).
CREATE FUNCTION churn.score(model text, customer jsonb) RETURNS float8
	AS 'MODULE_PATHNAME', 'churn_score_jsonb' LANGUAGE C STRICT STABLE PARALLEL SAFE;
CREATE FUNCTION churn.score(model text, customer record) RETURNS float8
	AS 'MODULE_PATHNAME', 'churn_score_row' LANGUAGE C STRICT STABLE PARALLEL SAFE;

-- Whether the probability reaches the model's threshold.
CREATE FUNCTION churn.label(model text, customer jsonb) RETURNS boolean
	AS 'MODULE_PATHNAME', 'churn_label_jsonb' LANGUAGE C STRICT STABLE PARALLEL SAFE;
CREATE FUNCTION churn.label(model text, customer record) RETURNS boolean
	AS 'MODULE_PATHNAME', 'churn_label_row' LANGUAGE C STRICT STABLE PARALLEL SAFE;

-- {"model", "probability", "label", "churn", "reasons": [{"feature", "value", "contribution"}]}
CREATE FUNCTION churn.explain(model text, customer jsonb, top_k integer DEFAULT 3) RETURNS jsonb
	AS 'MODULE_PATHNAME', 'churn_explain_jsonb' LANGUAGE C STRICT STABLE PARALLEL SAFE;
CREATE FUNCTION churn.explain(model text, customer record, top_k integer DEFAULT 3) RETURNS jsonb
	AS 'MODULE_PATHNAME', 'churn_explain_row' LANGUAGE C STRICT STABLE PARALLEL SAFE;

-- A customer written as a literal ('{"tenure": 3}') or held as text: the jsonb forms. (Without these,
-- an untyped literal matches both the jsonb and the record forms and PostgreSQL refuses to choose.)
CREATE FUNCTION churn.score(model text, customer text) RETURNS float8
	LANGUAGE sql STRICT STABLE PARALLEL SAFE AS 'SELECT churn.score(model, customer::jsonb)';
CREATE FUNCTION churn.label(model text, customer text) RETURNS boolean
	LANGUAGE sql STRICT STABLE PARALLEL SAFE AS 'SELECT churn.label(model, customer::jsonb)';
CREATE FUNCTION churn.explain(model text, customer text, top_k integer DEFAULT 3) RETURNS jsonb
	LANGUAGE sql STRICT STABLE PARALLEL SAFE AS 'SELECT churn.explain(model, customer::jsonb, top_k)';
