-- Withdrawal of consent to escalation (issue 5): when the reporter withdrew it; NULL while it
-- stands. Anonymous reports keep the day only.
ALTER TABLE reports ADD COLUMN escalation_withdrawn_at BIGINT;
