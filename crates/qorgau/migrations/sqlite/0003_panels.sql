-- Alarm panels speaking SIA DC-09: the registry, and the events they sent.

CREATE TABLE panels (
    id BLOB PRIMARY KEY,
    account TEXT NOT NULL UNIQUE,                   -- the hex digits after '#', upper-case
    name TEXT NOT NULL,
    facility_id BLOB REFERENCES facilities(id),     -- NULL: sent in clear before anyone placed it
    department_id BLOB REFERENCES departments(id),
    room TEXT NOT NULL,
    floor TEXT NOT NULL,
    key_text TEXT,                                  -- AES key as entered: hex (upper-cased) or ASCII
    key_format TEXT,                                -- 'hex' or 'ascii'
    supervision_secs BIGINT,                        -- NULL: not supervised
    watch_from BIGINT,                              -- when supervision was last armed
    silent INTEGER NOT NULL DEFAULT 0,              -- a panel-silent alarm is out and it has not spoken since
    last_seen_at BIGINT,
    last_addr TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX panels_facility ON panels(facility_id);

CREATE TABLE panel_events (
    id BLOB PRIMARY KEY,
    panel_id BLOB NOT NULL REFERENCES panels(id),
    dedupe_key TEXT NOT NULL UNIQUE,                -- also the alarm's, when the event raised one
    fingerprint TEXT NOT NULL,                      -- sha256 of account, sequence, token, data, extended data
    seq BIGINT NOT NULL,
    token TEXT NOT NULL,
    encrypted INTEGER NOT NULL,
    data TEXT NOT NULL,
    extended TEXT NOT NULL,                         -- JSON: [["X", "76.9"], ...]
    summary TEXT NOT NULL,
    category TEXT NOT NULL,
    panic INTEGER NOT NULL,
    alarm_id BLOB REFERENCES alarms(id),
    sent_at BIGINT,                                 -- the panel's timestamp, if it sent one
    received_at BIGINT NOT NULL,
    remote TEXT NOT NULL
);
CREATE INDEX panel_events_retransmit ON panel_events(panel_id, fingerprint, received_at);
CREATE INDEX panel_events_panel ON panel_events(panel_id, received_at);

-- Supervision timers are found by panel to re-arm them.
CREATE INDEX jobs_ref ON jobs(kind, ref_id);
