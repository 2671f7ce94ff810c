-- Third-party reports (issue 5): who reports in relation to the incident (self | witness |
-- representative), and, for a union representative, how the member gave her consent.
ALTER TABLE reports ADD COLUMN relation TEXT NOT NULL DEFAULT 'self';
ALTER TABLE reports ADD COLUMN consent_record TEXT;
