use std::io::BufRead;
fn main() {
    for line in std::io::stdin().lock().lines() {
        let line = line.unwrap();
        let text: String = serde_json::from_str(&line).unwrap();
        match tower_cookie_session_fuzz::python::dumps(&text) {
            Some(d) => println!(
                "{}",
                serde_json::to_string(&(d.json, d.spelled_as_python)).unwrap()
            ),
            None => println!("null"),
        }
    }
}
