-- Who is told when an alarm is not acknowledged (a facility's escalation policy), and how:
-- Web Push subscriptions of people's phones, outgoing webhooks for SMS and messenger gateways,
-- and every delivery attempt of a webhook.

CREATE TABLE escalation_policies (
    facility_id BLOB PRIMARY KEY REFERENCES facilities(id),
    steps TEXT NOT NULL,              -- JSON [{"after_secs": 30, "target": "facility_duty_admin"}, ...]
    updated_by TEXT NOT NULL,
    updated_at BIGINT NOT NULL
);

CREATE TABLE push_subscriptions (
    id BLOB PRIMARY KEY,
    user_id BLOB NOT NULL REFERENCES users(id),
    endpoint TEXT NOT NULL UNIQUE,    -- the push service's URL for one browser
    p256dh TEXT NOT NULL,             -- the browser's P-256 public key, base64url
    auth TEXT NOT NULL,               -- its 16-byte authentication secret, base64url
    created_at BIGINT NOT NULL
);
CREATE INDEX push_subscriptions_user ON push_subscriptions(user_id);

CREATE TABLE webhooks (
    id BLOB PRIMARY KEY,
    facility_id BLOB REFERENCES facilities(id),   -- one of facility_id and region_id is set
    region_id TEXT,
    url TEXT NOT NULL,
    events TEXT NOT NULL,             -- JSON list: alarm.raised, alarm.escalated
    secret_sealed TEXT NOT NULL,      -- base64 of Sealer::seal("webhook.secret", secret)
    active INTEGER NOT NULL DEFAULT 1,
    created_by TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX webhooks_facility ON webhooks(facility_id);
CREATE INDEX webhooks_region ON webhooks(region_id);

CREATE TABLE webhook_attempts (
    id BLOB PRIMARY KEY,
    webhook_id BLOB NOT NULL REFERENCES webhooks(id),
    delivery_id BLOB NOT NULL,         -- the same for every retry of one event
    event TEXT NOT NULL,
    attempt BIGINT NOT NULL,          -- 1 for the first try
    at BIGINT NOT NULL,
    status BIGINT,                    -- the HTTP status, or NULL when no response came
    error TEXT NOT NULL,              -- empty on success
    duration_ms BIGINT NOT NULL
);
CREATE INDEX webhook_attempts_hook ON webhook_attempts(webhook_id, at);

-- Whom the alarm's last escalation step told (a target code), for the console's badge.
ALTER TABLE alarms ADD COLUMN escalation_target TEXT NOT NULL DEFAULT '';
