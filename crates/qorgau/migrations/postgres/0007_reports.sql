-- Incident reports (issue 5).

-- Days an administrator adds to the compiled-in Kazakh and Kyrgyz calendars (new years, late
-- government transfers); on the same date they replace the compiled row.
CREATE TABLE calendar_days (
    country TEXT NOT NULL,            -- KZ | KG
    day TEXT NOT NULL,                -- YYYY-MM-DD
    kind TEXT NOT NULL,               -- holiday | transfer_day_off | transfer_working_day
    name TEXT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (country, day)
);

-- One report. For a confidential report the reporter's account is not in any column: it is
-- sealed in identity_sealed (platform/crypto.rs, purpose "report.identity"), and owner_tag, an
-- HMAC of the account under a key kept in the data directory, lets her find her own reports.
CREATE TABLE reports (
    id UUID PRIMARY KEY,
    mode TEXT NOT NULL,               -- named | confidential | anonymous
    status TEXT NOT NULL,             -- received | in_triage | closed
    owner_tag TEXT NOT NULL,
    reporter_user_id UUID REFERENCES users(id),   -- named reports only
    reporter_person_id UUID,                      -- named reports only
    identity_sealed BYTEA,                     -- confidential reports only
    dedupe_key TEXT NOT NULL UNIQUE,  -- owner tag + Idempotency-Key: exactly once across crashes
    request_hash TEXT NOT NULL,
    facility_id UUID NOT NULL REFERENCES facilities(id),
    department_id UUID REFERENCES departments(id),
    place TEXT NOT NULL,
    occurred_at BIGINT NOT NULL,      -- UTC microseconds
    tz TEXT NOT NULL,                 -- the facility's IANA zone when reported
    occurred_local TEXT NOT NULL,     -- wall clock at the facility, as she gave it
    shift TEXT,
    shift_start_date TEXT NOT NULL,
    weekend BOOLEAN NOT NULL,
    day_type TEXT NOT NULL,
    types TEXT NOT NULL,              -- JSON array of taxonomy ids
    perpetrator TEXT NOT NULL,
    severity BIGINT NOT NULL,
    injury BOOLEAN NOT NULL,
    sick_leave_days BIGINT NOT NULL,
    psychological_harm BOOLEAN NOT NULL,
    witnesses TEXT NOT NULL,
    wishes TEXT NOT NULL,             -- JSON array
    narrative TEXT NOT NULL,
    alarm_id UUID,
    related TEXT NOT NULL,            -- JSON array of earlier report ids
    created_at BIGINT NOT NULL,       -- anonymous reports: the day only (UTC midnight)
    -- Anonymous reports: HMAC of the 16-digit receipt under a key in the data directory, and an
    -- argon2 hash of the optional passphrase. Neither the receipt nor any address is stored.
    receipt_hash TEXT UNIQUE,
    passphrase_hash TEXT
);
CREATE INDEX reports_owner ON reports(owner_tag, id);
CREATE INDEX reports_facility ON reports(facility_id, id);

-- Messages between the reporter and the handlers, in order (seq per report). A message from an
-- anonymous reporter keeps only the day it was sent.
CREATE TABLE report_messages (
    report_id UUID NOT NULL REFERENCES reports(id),
    seq BIGINT NOT NULL,
    from_reporter BOOLEAN NOT NULL,
    author TEXT,                      -- staff username and role; NULL for the reporter
    body TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (report_id, seq)
);
