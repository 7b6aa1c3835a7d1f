-- One service's database and the role it connects as (psql variables: role, password).
-- The role logs in and owns its database, so it can migrate its own schema, and nothing else: no superuser,
-- no CREATEDB or CREATEROLE, and no other role (PUBLIC) may connect to its database.
-- Run by deploy/postgres/init.sh when the data volume is new; tests/integration/test_database_roles.py runs it.
\set ON_ERROR_STOP on
SELECT format('CREATE ROLE %I LOGIN PASSWORD %L NOSUPERUSER NOCREATEDB NOCREATEROLE', :'role', :'password')
\gexec
SELECT format('CREATE DATABASE %I OWNER %I', :'role', :'role')
\gexec
SELECT format('REVOKE ALL ON DATABASE %I FROM PUBLIC', :'role')
\gexec
