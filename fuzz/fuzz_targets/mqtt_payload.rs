//! Arbitrary topics and payloads into the MQTT button mappers (Zigbee2MQTT, Shelly Gen1 and Gen2,
//! the generic form) and on to the press rules and dedupe keys. Nothing may panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use qorgau::alarms::mqtt_map;

fuzz_target!(|data: &[u8]| {
    // The first line is the topic, the rest the payload.
    let split = data.iter().position(|b| *b == b'\n').unwrap_or(data.len());
    let topic = String::from_utf8_lossy(&data[..split]);
    let payload = data.get(split + 1..).unwrap_or(&[]);
    if let Ok(Some(msg)) = mqtt_map::map(&topic, payload) {
        let presses = vec!["emergency".to_owned(), "single".to_owned(), "S".to_owned(), "press".to_owned()];
        for ev in &msg.events {
            let _ = mqtt_map::is_press(&presses, ev);
            let _ = mqtt_map::pressed_at(ev, 1_800_000_000_000_000);
            let _ = mqtt_map::keys(msg.mapping, &msg.device, ev, Some(3), 1_800_000_000, true);
        }
    }
});
