-- MQTT buttons: the registry that places each device and says which of its events is a press,
-- the last Shelly Gen1 event counter heard per input, and devices heard on the broker that nobody
-- has registered yet (for an administrator to place).

CREATE TABLE mqtt_devices (
    id TEXT PRIMARY KEY,                          -- as the mapper names it: Zigbee2MQTT friendly name, Shelly id, generic device
    mapping TEXT NOT NULL,                        -- zigbee2mqtt | shelly_gen1 | shelly_gen2 | generic
    press_events TEXT NOT NULL,                   -- JSON array of the event names that count as a press
    label TEXT NOT NULL,
    facility_id UUID NOT NULL REFERENCES facilities(id),
    department_id UUID REFERENCES departments(id),
    room TEXT NOT NULL,
    floor TEXT NOT NULL,
    last_press_at BIGINT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX mqtt_devices_facility ON mqtt_devices(facility_id);

CREATE TABLE mqtt_counters (
    device_id TEXT NOT NULL,
    input TEXT NOT NULL,
    counter BIGINT NOT NULL,                      -- Shelly Gen1 event_cnt: repeats in every periodic update, resets on reboot
    seen_at BIGINT NOT NULL,
    PRIMARY KEY (device_id, input)
);

CREATE TABLE mqtt_unknown_devices (
    device_id TEXT PRIMARY KEY,
    mapping TEXT NOT NULL,
    topic TEXT NOT NULL,
    last_event TEXT NOT NULL,
    payload TEXT NOT NULL,                        -- the last message, cut to 512 characters
    messages BIGINT NOT NULL,
    first_seen BIGINT NOT NULL,
    last_seen BIGINT NOT NULL
);
