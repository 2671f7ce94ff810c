-- Times are BIGINT microseconds since the Unix epoch (see platform/time.rs).

CREATE TABLE settings (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE TABLE regions (
    id TEXT PRIMARY KEY,              -- ISO 3166-2, e.g. KZ-75
    country TEXT NOT NULL,
    kind TEXT NOT NULL,               -- region | city
    name_en TEXT NOT NULL,
    name_ru TEXT NOT NULL,
    name_kk TEXT NOT NULL,
    name_ky TEXT NOT NULL,
    centre TEXT NOT NULL,
    tz TEXT NOT NULL
);

CREATE TABLE facilities (
    id UUID PRIMARY KEY,
    region_id TEXT NOT NULL REFERENCES regions(id),
    kind TEXT NOT NULL,
    name TEXT NOT NULL,
    address TEXT NOT NULL,
    phone TEXT NOT NULL,
    tz TEXT NOT NULL,
    archived_at BIGINT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX facilities_region ON facilities(region_id);

CREATE TABLE departments (
    id UUID PRIMARY KEY,
    facility_id UUID NOT NULL REFERENCES facilities(id),
    kind TEXT NOT NULL,
    name TEXT NOT NULL,
    floor TEXT NOT NULL,
    archived_at BIGINT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX departments_facility ON departments(facility_id);

CREATE TABLE security_posts (
    id UUID PRIMARY KEY,
    facility_id UUID NOT NULL REFERENCES facilities(id),
    name TEXT NOT NULL,
    location TEXT NOT NULL,
    phone TEXT NOT NULL,
    hours TEXT NOT NULL,              -- '24/7' or 'HH:MM-HH:MM'
    archived_at BIGINT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX posts_facility ON security_posts(facility_id);

CREATE TABLE people (
    id UUID PRIMARY KEY,
    facility_id UUID NOT NULL REFERENCES facilities(id),
    department_id UUID REFERENCES departments(id),
    employee_no TEXT NOT NULL,
    full_name TEXT NOT NULL,
    profession TEXT NOT NULL,
    phone TEXT NOT NULL,
    email TEXT NOT NULL,
    search_key TEXT NOT NULL,         -- lower-cased name and number, for search on both backends
    archived_at BIGINT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    UNIQUE (facility_id, employee_no)
);
CREATE INDEX people_facility ON people(facility_id, id);
CREATE INDEX people_department ON people(department_id);

CREATE TABLE shift_definitions (
    id UUID PRIMARY KEY,
    facility_id UUID NOT NULL REFERENCES facilities(id),
    code TEXT NOT NULL,               -- day | evening | night | ...
    starts TEXT NOT NULL,             -- HH:MM local
    ends TEXT NOT NULL,               -- HH:MM local; ends <= starts means it crosses midnight
    UNIQUE (facility_id, code)
);

CREATE TABLE roster_entries (
    id UUID PRIMARY KEY,
    person_id UUID NOT NULL REFERENCES people(id),
    shift_id UUID NOT NULL REFERENCES shift_definitions(id),
    day TEXT NOT NULL,                -- YYYY-MM-DD, the local date the shift starts
    UNIQUE (person_id, day, shift_id)
);
CREATE INDEX roster_day ON roster_entries(day);

CREATE TABLE users (
    id UUID PRIMARY KEY,
    username TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    role TEXT NOT NULL,
    scope_kind TEXT NOT NULL,
    scope_id TEXT,
    person_id UUID REFERENCES people(id),
    lang TEXT,
    pref_size BIGINT,
    pref_scheme TEXT,
    pref_images TEXT,
    totp_secret TEXT,
    totp_enrolled BOOLEAN NOT NULL DEFAULT FALSE,
    totp_last_step BIGINT,
    failed_logins BIGINT NOT NULL DEFAULT 0,
    locked_until BIGINT,
    disabled_at BIGINT,
    created_at BIGINT NOT NULL
);

CREATE TABLE sessions (
    id_hash TEXT PRIMARY KEY,
    user_id UUID NOT NULL REFERENCES users(id),
    created_at BIGINT NOT NULL,
    last_seen_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    revoked_at BIGINT
);
CREATE INDEX sessions_user ON sessions(user_id);

CREATE TABLE api_tokens (
    id UUID PRIMARY KEY,
    user_id UUID NOT NULL REFERENCES users(id),
    name TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    read_only BOOLEAN NOT NULL,
    created_at BIGINT NOT NULL,
    last_used_at BIGINT,
    revoked_at BIGINT
);

CREATE TABLE reset_tokens (
    token_hash TEXT PRIMARY KEY,
    user_id UUID NOT NULL REFERENCES users(id),
    created_by UUID REFERENCES users(id),
    expires_at BIGINT NOT NULL,
    used_at BIGINT
);

CREATE TABLE audit_log (
    seq BIGINT PRIMARY KEY,
    at BIGINT NOT NULL,
    actor_id UUID,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    object_type TEXT NOT NULL,
    object_id TEXT NOT NULL,
    subject UUID,
    reason TEXT,
    detail TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
);
CREATE INDEX audit_subject ON audit_log(subject, seq);
CREATE INDEX audit_object ON audit_log(object_id);

CREATE TABLE idempotency (
    scope TEXT NOT NULL,              -- hash of the credential that sent it
    key TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    status BIGINT NOT NULL,          -- 0 while in progress
    content_type TEXT NOT NULL,
    body BYTEA NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (scope, key)
);
