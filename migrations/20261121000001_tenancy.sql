-- Tenancy: accounts, their directory and their access keys.
-- Every table carries account_id and every key includes it, so the data can later be
-- distributed by account (see PRODUCT.md "Scaling past one machine").

CREATE TABLE accounts (
    account_id      text        PRIMARY KEY
                    CONSTRAINT accounts_account_id_format CHECK (account_id ~ '^[0-9]{12}$'),
    organization_id text
                    CONSTRAINT accounts_organization_id_format CHECK (organization_id ~ '^o-[a-z0-9]{10,32}$'),
    name            text        NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now()
);

-- The WorkDocs "organization" of an account: exactly one per account.
CREATE TABLE directories (
    account_id   text        NOT NULL REFERENCES accounts (account_id) ON DELETE CASCADE,
    directory_id text        NOT NULL
                 CONSTRAINT directories_directory_id_format CHECK (directory_id ~ '^d-[a-z0-9]{10}$'),
    created_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (account_id, directory_id),
    CONSTRAINT directories_one_per_account UNIQUE (account_id)
);

CREATE TABLE access_keys (
    account_id    text        NOT NULL REFERENCES accounts (account_id) ON DELETE CASCADE,
    access_key_id text        NOT NULL
                  CONSTRAINT access_keys_access_key_id_format CHECK (access_key_id ~ '^AKIA[A-Z0-9]{16}$'),
    -- XChaCha20-Poly1305(nonce || ciphertext) under the master key; never plaintext.
    secret_sealed bytea       NOT NULL,
    status        text        NOT NULL DEFAULT 'Active'
                  CONSTRAINT access_keys_status CHECK (status IN ('Active', 'Inactive')),
    created_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (account_id, access_key_id)
);

-- SigV4 names only the key id, so authentication must find the account from it before any
-- tenant is known: the one lookup that is not tenant-scoped (a reference table when the
-- data is distributed by account).
CREATE UNIQUE INDEX access_keys_by_key_id ON access_keys (access_key_id);

-- A known value sealed with the master key, so a process started with the wrong key
-- refuses to start instead of failing every signature.
CREATE TABLE master_key_check (
    singleton boolean PRIMARY KEY DEFAULT true CONSTRAINT master_key_check_singleton CHECK (singleton),
    sealed    bytea   NOT NULL
);
