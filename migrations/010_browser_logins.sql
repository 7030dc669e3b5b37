-- The last CLI login approved in each browser, replacing the last login delivered per
-- organisation (org_logins): Postiz keeps one token per app, person and organisation, and this
-- server never learns who the person is, so a login kept per organisation was shown to every
-- member of it. Now a login is kept under a secret only the approving browser holds (a cookie,
-- drawn anew at each login approved in it): `browser_key` is the secret's SHA-256 and `sealed`
-- the login (when, the device's address and user agent, the organisation) sealed with a key
-- derived from the secret, so the database alone says nothing of anyone's login
-- (src/device-flow/browser-logins.ts, docs/security.md "What is stored"). Deleted after
-- LOGIN_HISTORY_DAYS.
DROP TABLE org_logins;

CREATE TABLE browser_logins (
  browser_key bytea PRIMARY KEY,
  sealed bytea NOT NULL,
  expires_at timestamptz NOT NULL
);
