use serde_json::value::RawValue;
use std::collections::BTreeMap;
fn main() {
    let data = std::fs::read(std::env::args().nth(1).unwrap()).unwrap();
    let (_, _, state): (f64, f64, BTreeMap<String, Box<RawValue>>) =
        serde_json::from_slice(&data[2..]).unwrap();
    let state: BTreeMap<String, String> = state
        .into_iter()
        .map(|(k, v)| (k, v.get().to_owned()))
        .collect();
    let f = tower_cookie_session_fuzz::format(data[0]);
    let now = tower_cookie_session_fuzz::unix_now();
    let compact = tower_cookie_session_fuzz::payload_len(now, 1699990000, &state);
    let py = tower_cookie_session_fuzz::python::payload(now, 1699990000, &state).unwrap();
    println!(
        "format {} compact value {} python value {} spelled_as_python {} fits {:?}",
        f.name,
        (f.value_len)(compact),
        (f.value_len)(py.json.len()),
        py.spelled_as_python,
        tower_cookie_session_fuzz::fits_at(f, now, 1699990000, &state)
    );
}
