-- Handling reports (issue 5): the triage queue, cases, and mandatory-notification duties.

-- Who handles the report; which report a duplicate was merged into; the case it became.
ALTER TABLE reports ADD COLUMN assignee_id BLOB REFERENCES users(id);
ALTER TABLE reports ADD COLUMN merged_into BLOB REFERENCES reports(id);
ALTER TABLE reports ADD COLUMN case_id BLOB;
CREATE INDEX reports_queue ON reports(facility_id, status, id);

-- Status changes, which the reporter sees as her report's timeline (no staff names: her access
-- log names who read or acted).
CREATE TABLE report_timeline (
    report_id BLOB NOT NULL REFERENCES reports(id),
    seq BIGINT NOT NULL,
    status TEXT NOT NULL,
    at BIGINT NOT NULL,
    PRIMARY KEY (report_id, seq)
);

-- Handlers' internal notes: never shown to the reporter.
CREATE TABLE report_notes (
    report_id BLOB NOT NULL REFERENCES reports(id),
    seq BIGINT NOT NULL,
    author_id BLOB NOT NULL REFERENCES users(id),
    author TEXT NOT NULL,             -- username and role at the time
    body TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (report_id, seq)
);

-- A country's mandatory-notification rules when an administrator replaced the compiled-in
-- defaults (reference/duty-rules.csv); the whole list is stored as one JSON document.
CREATE TABLE duty_rules (
    country TEXT PRIMARY KEY,
    rules TEXT NOT NULL,
    updated_at BIGINT NOT NULL
);

-- A notification a report obliges the handlers to make, and by when.
CREATE TABLE report_duties (
    id BLOB PRIMARY KEY,
    report_id BLOB NOT NULL REFERENCES reports(id),
    rule_id TEXT NOT NULL,
    body TEXT NOT NULL,               -- id from emergency-and-escalation.csv
    external INTEGER NOT NULL,        -- outside the facility: needs the reporter's consent
    due_at BIGINT NOT NULL,
    done_at BIGINT,
    done_by TEXT,
    reference TEXT,                   -- the outgoing letter or registration number
    escalated_at BIGINT,              -- when it was found overdue and escalated
    UNIQUE (report_id, rule_id)
);
CREATE INDEX report_duties_open ON report_duties(done_at, due_at);

-- Cases (the cases capability builds on these): one or more reports investigated together.
CREATE TABLE cases (
    id BLOB PRIMARY KEY,
    facility_id BLOB NOT NULL REFERENCES facilities(id),
    department_id BLOB REFERENCES departments(id),
    title TEXT NOT NULL,
    status TEXT NOT NULL,             -- open | closed
    created_by BLOB NOT NULL REFERENCES users(id),
    created_at BIGINT NOT NULL
);
