-- The phone button's settings: how long a press must be held, per facility (chosen by its
-- administrator), and each person's own button: the room she works in, whether to send her
-- position, silent mode, and her stand-down and duress PINs (argon2id hashes, never the PINs).

CREATE TABLE alarm_button_settings (
    facility_id UUID PRIMARY KEY REFERENCES facilities(id),
    hold_ms BIGINT NOT NULL,          -- 0, 1000 or 2000
    updated_by TEXT NOT NULL,
    updated_at BIGINT NOT NULL
);

CREATE TABLE alarm_profiles (
    user_id UUID PRIMARY KEY REFERENCES users(id),
    room TEXT NOT NULL DEFAULT '',
    gps BOOLEAN NOT NULL DEFAULT FALSE,
    silent BOOLEAN NOT NULL DEFAULT FALSE,
    stand_down_pin_hash TEXT,
    duress_pin_hash TEXT,
    updated_at BIGINT NOT NULL
);

-- One alarm's timeline, for its page.
CREATE INDEX alarm_events_alarm ON alarm_events(alarm_id, seq);
-- A person's last open alarm ("I am safe").
CREATE INDEX alarms_pressed_by ON alarms(pressed_by, state);
