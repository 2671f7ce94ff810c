-- What protects the reporter (issue 5): matching escrow and retaliation watch.

-- One identifier of a perpetrator lodged from one report: only its keyed hash (HMAC-SHA256 under
-- DATA_DIR/keys/escrow.key, never in the database) and which kind of identifier it was.
-- created_at is the day only, so that an anonymous report's lodging is not dated to the second.
CREATE TABLE escrow_entries (
    id UUID PRIMARY KEY,
    report_id UUID NOT NULL REFERENCES reports(id),
    kind TEXT NOT NULL,               -- name | phone | iin | pin
    hash TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    UNIQUE (report_id, hash)
);
CREATE INDEX escrow_entries_hash ON escrow_entries(hash);

-- Identifiers lodged per report, counted by an upsert that stops at the limit, so that
-- concurrent lodges cannot pass it on either database.
CREATE TABLE escrow_quota (
    report_id UUID PRIMARY KEY REFERENCES reports(id),
    used BIGINT NOT NULL
);

-- Entries from two or more different reporters with the same hash. The handlers in scope of its
-- reports see that a match exists; which reports match only once two of them said go on.
CREATE TABLE escrow_matches (
    id UUID PRIMARY KEY,
    hash TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

-- Each report in a match and its reporter's answer.
CREATE TABLE escrow_match_reports (
    match_id UUID NOT NULL REFERENCES escrow_matches(id),
    report_id UUID NOT NULL REFERENCES reports(id),
    answer TEXT NOT NULL,             -- pending | go_on | not_now
    answered_at BIGINT,
    PRIMARY KEY (match_id, report_id)
);
CREATE INDEX escrow_match_reports_report ON escrow_match_reports(report_id);

-- Adverse treatment she records after a named or confidential report.
CREATE TABLE retaliation_events (
    id UUID PRIMARY KEY,
    report_id UUID NOT NULL REFERENCES reports(id),
    kind TEXT NOT NULL,               -- shift_change | disciplinary | dismissal_threat | other
    happened_on TEXT NOT NULL,        -- YYYY-MM-DD
    body TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX retaliation_events_report ON retaliation_events(report_id, happened_on);

-- Her consent to compare her roster before and after the report; withdrawn_at set when she
-- withdraws it (the row stays as the record of both).
CREATE TABLE retaliation_consents (
    report_id UUID PRIMARY KEY REFERENCES reports(id),
    given_at BIGINT NOT NULL,
    withdrawn_at BIGINT
);

-- An unexplained roster change, for the union representatives in scope of the report.
CREATE TABLE retaliation_alerts (
    id UUID PRIMARY KEY,
    report_id UUID NOT NULL REFERENCES reports(id),
    facility_id UUID NOT NULL REFERENCES facilities(id),
    summary TEXT NOT NULL,            -- JSON: counts before/after and the flagged measures
    created_at BIGINT NOT NULL
);
CREATE INDEX retaliation_alerts_facility ON retaliation_alerts(facility_id, id);
