-- Row-level security keyed on the request's tenant.
--
-- Request handlers run on connections that have done `SET ROLE grantd_tenant` and set
-- `grantd.account_id` to the caller's account (src/db/tenant.rs). grantd_tenant is no
-- superuser, owns nothing and cannot bypass RLS, so on those connections every table below
-- shows and accepts only rows of that account: a query that forgets its `account_id`
-- filter still sees nothing of another tenant, and with no account set it sees nothing.
--
-- What runs before a tenant is known (finding an access key or a token, login), the
-- background e-mail worker, the admin commands and the one reviewed cross-account read
-- (a layer version granted by its policy) use the connecting role, which owns the tables
-- and so is not subject to these policies.

DO $$
BEGIN
    BEGIN
        CREATE ROLE grantd_tenant NOLOGIN NOSUPERUSER NOBYPASSRLS NOINHERIT;
    EXCEPTION
        -- Another database on the same server made it first (roles are server-wide).
        WHEN duplicate_object OR unique_violation THEN NULL;
    END;
    -- A superuser may SET ROLE to any role; anyone else needs a membership that allows it
    -- (on PostgreSQL 16 and later the creator's automatic grant does not). If this user may
    -- not grant it, an administrator must: grantd then stops at start with the reason.
    IF NOT (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) THEN
        BEGIN
            EXECUTE format('GRANT grantd_tenant TO %I', current_user);
        EXCEPTION
            WHEN OTHERS THEN
                RAISE WARNING 'could not grant grantd_tenant to %: %', current_user, SQLERRM;
        END;
    END IF;
END
$$;

GRANT USAGE ON SCHEMA public TO grantd_tenant;

-- Reference data a tenant reads but never writes. access_keys and master_key_check are
-- not granted at all: no request handler reads a sealed secret.
GRANT SELECT ON accounts, directories TO grantd_tenant;
GRANT SELECT, INSERT, UPDATE, DELETE ON
    layers, layer_versions, layer_version_contents, layer_version_statements,
    wd_users, wd_tokens, wd_groups, wd_group_members, wd_resources, wd_grants,
    wd_activities, wd_outbox
    TO grantd_tenant;
GRANT USAGE ON SEQUENCE layer_statement_order, wd_activities_activity_id_seq TO grantd_tenant;

DO $$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY[
        'accounts', 'directories',
        'layers', 'layer_versions', 'layer_version_contents', 'layer_version_statements',
        'wd_users', 'wd_tokens', 'wd_groups', 'wd_group_members', 'wd_resources', 'wd_grants',
        'wd_activities', 'wd_outbox'
    ] LOOP
        EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
        EXECUTE format(
            'CREATE POLICY tenant_isolation ON %I TO grantd_tenant
                 USING (account_id = current_setting(''grantd.account_id'', true))
                 WITH CHECK (account_id = current_setting(''grantd.account_id'', true))',
            t);
    END LOOP;
END
$$;
