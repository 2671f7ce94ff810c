-- Report attachments (issue 5): stored after their metadata is removed (reports/scrub.rs),
-- sealed under the data directory's key, named by their number only. An anonymous report's keep
-- the day only.
CREATE TABLE report_attachments (
    id UUID PRIMARY KEY,
    report_id UUID NOT NULL REFERENCES reports(id),
    seq BIGINT NOT NULL,
    kind TEXT NOT NULL,               -- jpg | png | pdf | docx
    size BIGINT NOT NULL,
    sha256 TEXT NOT NULL,
    sealed BYTEA NOT NULL,
    created_at BIGINT NOT NULL,
    UNIQUE (report_id, seq)
);
