-- Long-lived API tokens for applications pushing metrics (OTLP). Only the SHA-256 of a token is
-- kept: tokens are 32 random bytes, so a fast hash is enough and lets a request be checked with
-- one indexed lookup. `prefix` (the first 8 characters) lets a person recognise a token in a list.
CREATE TABLE api_tokens (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  name text NOT NULL,
  scope text NOT NULL CHECK (scope IN ('ingest')),
  prefix text NOT NULL,
  token_hash text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  -- The admin's username, kept as text so removing the user keeps the record; NULL from the CLI.
  created_by text,
  last_used_at timestamptz,
  revoked_at timestamptz,
  CONSTRAINT api_tokens_hash_key UNIQUE (token_hash)
);
