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
