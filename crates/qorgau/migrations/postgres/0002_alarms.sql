-- Alarms, their timeline (the console's live feed) and durable timers.

CREATE TABLE alarms (
    id UUID PRIMARY KEY,
    facility_id UUID NOT NULL REFERENCES facilities(id),
    department_id UUID REFERENCES departments(id),
    source TEXT NOT NULL,
    source_ref TEXT NOT NULL,
    dedupe_key TEXT NOT NULL UNIQUE,  -- a retry of the same press finds the first alarm by this
    kind TEXT NOT NULL,
    state TEXT NOT NULL,
    outcome TEXT,
    room TEXT NOT NULL,
    floor TEXT NOT NULL,
    lat DOUBLE PRECISION,
    lon DOUBLE PRECISION,
    silent BOOLEAN NOT NULL,
    pressed_by UUID,
    pressed_at BIGINT NOT NULL,
    received_at BIGINT NOT NULL,
    acked_at BIGINT,
    on_scene_at BIGINT,
    resolved_at BIGINT,
    escalation_level BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX alarms_facility ON alarms(facility_id, received_at);
CREATE INDEX alarms_state ON alarms(state);

CREATE TABLE alarm_events (
    seq BIGSERIAL PRIMARY KEY,
    alarm_id UUID NOT NULL REFERENCES alarms(id),
    facility_id UUID NOT NULL,
    region_id TEXT NOT NULL,
    at BIGINT NOT NULL,
    actor TEXT NOT NULL,
    kind TEXT NOT NULL,
    detail TEXT NOT NULL
);
CREATE INDEX alarm_events_facility ON alarm_events(facility_id, seq);

CREATE TABLE jobs (
    id UUID PRIMARY KEY,
    kind TEXT NOT NULL,
    ref_id TEXT NOT NULL,
    due_at BIGINT NOT NULL,
    payload TEXT NOT NULL,
    done_at BIGINT,
    attempts BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX jobs_due ON jobs(done_at, due_at);
