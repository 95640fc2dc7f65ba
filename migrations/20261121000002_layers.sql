-- Lambda layers, their versions, content and version policies (aws-wire.md §4–§5).

CREATE TABLE layers (
    account_id     text        NOT NULL REFERENCES accounts (account_id) ON DELETE CASCADE,
    layer_name     text        NOT NULL,
    -- The highest version number ever handed out: numbers are never reused, even after
    -- every version was deleted, so this row outlives its versions.
    latest_version bigint      NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (account_id, layer_name)
);

CREATE TABLE layer_versions (
    account_id               text        NOT NULL,
    layer_name               text        NOT NULL,
    version                  bigint      NOT NULL CONSTRAINT layer_versions_version_positive CHECK (version >= 1),
    description              text        NOT NULL DEFAULT '',
    license_info             text,
    compatible_runtimes      text[]      NOT NULL DEFAULT '{}',
    compatible_architectures text[]      NOT NULL DEFAULT '{}',
    code_sha256              text,
    code_size                bigint      NOT NULL DEFAULT 0,
    s3_bucket                text,
    s3_key                   text,
    s3_object_version        text,
    created_at               timestamptz NOT NULL DEFAULT now(),
    -- Optimistic concurrency for the version's policy: a new UUID on every add and remove,
    -- compared and swapped under the row lock. NULL until the first statement is added.
    policy_revision          uuid,
    PRIMARY KEY (account_id, layer_name, version),
    FOREIGN KEY (account_id, layer_name) REFERENCES layers (account_id, layer_name) ON DELETE CASCADE
);

-- The zip itself, apart from the version row so that lists never read it.
CREATE TABLE layer_version_contents (
    account_id text   NOT NULL,
    layer_name text   NOT NULL,
    version    bigint NOT NULL,
    zip        bytea  NOT NULL,
    PRIMARY KEY (account_id, layer_name, version),
    FOREIGN KEY (account_id, layer_name, version)
        REFERENCES layer_versions (account_id, layer_name, version) ON DELETE CASCADE
);
ALTER TABLE layer_version_contents ALTER COLUMN zip SET STORAGE EXTERNAL;

CREATE SEQUENCE layer_statement_order;

CREATE TABLE layer_version_statements (
    account_id      text   NOT NULL,
    layer_name      text   NOT NULL,
    version         bigint NOT NULL,
    statement_id    text   NOT NULL,
    -- Insertion order: statements are listed in the order they were added.
    position        bigint NOT NULL DEFAULT nextval('layer_statement_order'),
    -- '*' or the 12-digit account id the statement grants.
    principal       text   NOT NULL
                    CONSTRAINT layer_version_statements_principal CHECK (principal = '*' OR principal ~ '^[0-9]{12}$'),
    organization_id text,
    -- The statement exactly as AddLayerVersionPermission returned it.
    statement_json  text   NOT NULL,
    PRIMARY KEY (account_id, layer_name, version, statement_id),
    FOREIGN KEY (account_id, layer_name, version)
        REFERENCES layer_versions (account_id, layer_name, version) ON DELETE CASCADE
);
CREATE INDEX layer_version_statements_order
    ON layer_version_statements (account_id, layer_name, version, position);
