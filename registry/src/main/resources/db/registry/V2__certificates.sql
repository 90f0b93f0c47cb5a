-- Registered X.509 CA certificates. Subject, thumbprints and expiry are derived from the PEM when
-- loading, so the certificate itself is the only copy of them.
CREATE TABLE registry_ca_certificates (
  name       text PRIMARY KEY,
  pem        text NOT NULL,
  etag       text NOT NULL,
  created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL
);
