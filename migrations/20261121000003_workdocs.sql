-- Amazon WorkDocs sharing (aws-wire.md §6–§7): users, tokens, groups, folders and
-- documents, DIRECT grants (inheritance is computed along the folder chain), activities
-- and the e-mail outbox. Every key includes account_id.

-- Directory ids name a tenant in requests that carry no credentials yet (login).
CREATE UNIQUE INDEX directories_by_directory_id ON directories (directory_id);

CREATE TABLE wd_users (
    account_id            text        NOT NULL REFERENCES accounts (account_id) ON DELETE CASCADE,
    user_id               text        NOT NULL,
    directory_id          text        NOT NULL,
    username              text        NOT NULL,
    email_address         text,
    given_name            text        NOT NULL,
    surname               text        NOT NULL,
    user_type             text        NOT NULL DEFAULT 'USER'
                          CONSTRAINT wd_users_type CHECK (user_type IN ('USER', 'ADMIN', 'POWERUSER', 'MINIMALUSER', 'WORKSPACESUSER')),
    status                text        NOT NULL DEFAULT 'ACTIVE'
                          CONSTRAINT wd_users_status CHECK (status IN ('ACTIVE', 'INACTIVE', 'PENDING')),
    -- argon2id PHC string; NULL for users who cannot log in with a password (invitees).
    password_hash         text,
    root_folder_id        text,
    recycle_bin_folder_id text,
    time_zone_id          text,
    locale                text,
    storage_allocated     bigint,
    storage_type          text        NOT NULL DEFAULT 'UNLIMITED',
    created_at            timestamptz NOT NULL DEFAULT now(),
    modified_at           timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (account_id, user_id),
    FOREIGN KEY (account_id, directory_id) REFERENCES directories (account_id, directory_id)
);
-- Usernames are unique per organization, whatever their case.
CREATE UNIQUE INDEX wd_users_username ON wd_users (account_id, lower(username));
CREATE INDEX wd_users_email ON wd_users (account_id, lower(email_address));

CREATE TABLE wd_tokens (
    account_id   text        NOT NULL,
    -- SHA-256 of the token; the token itself is never stored.
    token_digest bytea       NOT NULL,
    user_id      text        NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz NOT NULL,
    revoked_at   timestamptz,
    PRIMARY KEY (account_id, token_digest),
    FOREIGN KEY (account_id, user_id) REFERENCES wd_users (account_id, user_id) ON DELETE CASCADE
);
-- A bearer token names no tenant: like an access key id, it is looked up by its digest alone.
CREATE UNIQUE INDEX wd_tokens_by_digest ON wd_tokens (token_digest);

CREATE TABLE wd_groups (
    account_id   text        NOT NULL REFERENCES accounts (account_id) ON DELETE CASCADE,
    group_id     text        NOT NULL,
    directory_id text        NOT NULL,
    name         text        NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (account_id, group_id)
);
CREATE UNIQUE INDEX wd_groups_name ON wd_groups (account_id, lower(name));

CREATE TABLE wd_group_members (
    account_id text NOT NULL,
    group_id   text NOT NULL,
    user_id    text NOT NULL,
    PRIMARY KEY (account_id, group_id, user_id),
    FOREIGN KEY (account_id, group_id) REFERENCES wd_groups (account_id, group_id) ON DELETE CASCADE,
    FOREIGN KEY (account_id, user_id) REFERENCES wd_users (account_id, user_id) ON DELETE CASCADE
);
CREATE INDEX wd_group_members_by_user ON wd_group_members (account_id, user_id);

-- Folders and documents in one tree per user: a root folder and a recycle bin have no parent.
CREATE TABLE wd_resources (
    account_id               text        NOT NULL REFERENCES accounts (account_id) ON DELETE CASCADE,
    resource_id              text        NOT NULL CONSTRAINT wd_resources_id CHECK (resource_id ~ '^[0-9a-f]{64}$'),
    kind                     text        NOT NULL CONSTRAINT wd_resources_kind CHECK (kind IN ('FOLDER', 'DOCUMENT')),
    parent_id                text,
    -- The user whose tree this is; that user is OWNER of everything in it.
    owner_id                 text        NOT NULL,
    creator_id               text        NOT NULL,
    name                     text        NOT NULL,
    special                  text        CONSTRAINT wd_resources_special CHECK (special IN ('ROOT', 'RECYCLE_BIN')),
    resource_state           text        NOT NULL DEFAULT 'ACTIVE'
                             CONSTRAINT wd_resources_state CHECK (resource_state IN ('ACTIVE', 'RESTORING', 'RECYCLING', 'RECYCLED')),
    signature                text        NOT NULL DEFAULT '',
    -- Documents: the latest version.
    version_id               text,
    version_status           text        CONSTRAINT wd_resources_version_status CHECK (version_status IN ('INITIALIZED', 'ACTIVE')),
    content_type             text,
    size                     bigint      NOT NULL DEFAULT 0,
    content_created_at       timestamptz,
    content_modified_at      timestamptz,
    -- Bumped by every permission change on this resource (optimistic concurrency).
    permissions_revision     bigint      NOT NULL DEFAULT 0,
    created_at               timestamptz NOT NULL DEFAULT now(),
    modified_at              timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (account_id, resource_id),
    FOREIGN KEY (account_id, parent_id) REFERENCES wd_resources (account_id, resource_id) ON DELETE CASCADE,
    FOREIGN KEY (account_id, owner_id) REFERENCES wd_users (account_id, user_id) ON DELETE CASCADE
);
CREATE INDEX wd_resources_children ON wd_resources (account_id, parent_id, kind, name);
-- Recycle bins list what their owner recycled.
CREATE INDEX wd_resources_recycled ON wd_resources (account_id, owner_id) WHERE resource_state = 'RECYCLED';
-- No two folders of one name under one parent.
CREATE UNIQUE INDEX wd_resources_folder_name ON wd_resources (account_id, parent_id, name) WHERE kind = 'FOLDER';

-- DIRECT grants. One role per principal per resource; inherited roles are never stored.
CREATE TABLE wd_grants (
    account_id     text        NOT NULL,
    resource_id    text        NOT NULL,
    principal_id   text        NOT NULL,
    principal_type text        NOT NULL
                   CONSTRAINT wd_grants_principal_type CHECK (principal_type IN ('USER', 'GROUP', 'INVITE', 'ANONYMOUS', 'ORGANIZATION')),
    role           text        NOT NULL
                   CONSTRAINT wd_grants_role CHECK (role IN ('VIEWER', 'CONTRIBUTOR', 'COOWNER')),
    granted_by     text        NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT now(),
    modified_at    timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT wd_grants_one_direct_role PRIMARY KEY (account_id, resource_id, principal_id),
    FOREIGN KEY (account_id, resource_id) REFERENCES wd_resources (account_id, resource_id) ON DELETE CASCADE
);
CREATE INDEX wd_grants_by_principal ON wd_grants (account_id, principal_id);

CREATE TABLE wd_activities (
    account_id         text        NOT NULL REFERENCES accounts (account_id) ON DELETE CASCADE,
    activity_id        bigint      GENERATED ALWAYS AS IDENTITY,
    activity_type      text        NOT NULL,
    occurred_at        timestamptz NOT NULL DEFAULT now(),
    -- The user id, or the IAM ARN of an administrative (SigV4) caller.
    initiator_id       text        NOT NULL,
    resource_id        text        NOT NULL,
    resource_type      text        NOT NULL,
    resource_name      text        NOT NULL,
    parent_id          text,
    original_parent_id text,
    original_name      text,
    participant_users  text[]      NOT NULL DEFAULT '{}',
    participant_groups text[]      NOT NULL DEFAULT '{}',
    PRIMARY KEY (account_id, activity_id)
);
CREATE INDEX wd_activities_by_resource ON wd_activities (account_id, resource_id, activity_id);
CREATE INDEX wd_activities_by_time ON wd_activities (account_id, occurred_at);

CREATE TABLE wd_outbox (
    account_id      text        NOT NULL REFERENCES accounts (account_id) ON DELETE CASCADE,
    message_id      uuid        NOT NULL,
    recipient       text        NOT NULL,
    subject         text        NOT NULL,
    body            text        NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    attempts        integer     NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    delivered_at    timestamptz,
    last_error      text,
    PRIMARY KEY (account_id, message_id)
);
CREATE INDEX wd_outbox_pending ON wd_outbox (next_attempt_at) WHERE delivered_at IS NULL;
