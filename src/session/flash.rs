//! Flash messages, Pyramid's `ISession` queues: each queue a list under
//! `"_f_" + queue`, kept as the JSON text of its messages.

use serde::{Serialize, de::DeserializeOwned};
use serde_json::value::RawValue;

use super::{Session, from_raw, same_json::same_json, to_raw};
use crate::error::SessionError;

const FLASH_PREFIX: &str = "_f_";

impl Session {
    /// Appends `message` to the default flash queue (`""`), duplicates
    /// allowed. Same as `flash_to("", message, true)`.
    ///
    /// # Errors
    ///
    /// As [`insert`](Self::insert).
    ///
    /// # Examples
    ///
    /// ```
    /// # use tower_cookie_session::Session;
    /// let session = Session::detached();
    /// session.flash("Saved.")?;
    /// assert_eq!(session.pop_flash::<String>("")?, ["Saved."]);
    /// # Ok::<(), tower_cookie_session::SessionError>(())
    /// ```
    pub fn flash<T: Serialize>(&self, message: T) -> Result<(), SessionError> {
        self.flash_to("", message, true)
    }

    /// Appends `message` to the flash queue `queue` (stored under
    /// `"_f_" + queue`, as Pyramid does). With `allow_duplicate == false`,
    /// a message already queued is not added again.
    ///
    /// # Errors
    ///
    /// As [`insert`](Self::insert); also [`SessionError::Deserialize`] if
    /// the key holds something other than a list.
    ///
    /// # Examples
    ///
    /// ```
    /// # use tower_cookie_session::Session;
    /// let session = Session::detached();
    /// session.flash_to("error", "Try again.", false)?;
    /// session.flash_to("error", "Try again.", false)?;
    /// assert_eq!(session.peek_flash::<String>("error")?.len(), 1);
    /// # Ok::<(), tower_cookie_session::SessionError>(())
    /// ```
    pub fn flash_to<T: Serialize>(
        &self,
        queue: &str,
        message: T,
        allow_duplicate: bool,
    ) -> Result<(), SessionError> {
        let message = serde_json::value::to_raw_value(&message).map_err(SessionError::Serialize)?;
        let key = flash_key(queue);
        let config = &self.shared.config;
        // One lock for the look-up and the store.
        self.with(|loaded| {
            // Queued messages stay as their JSON text, so that what another
            // app queued (a Python integer beyond 64 bits, say) is kept as
            // it was.
            let mut messages: Vec<Box<RawValue>> = match loaded.state.get(&key) {
                Some(raw) => from_raw(raw)?,
                None => Vec::new(),
            };
            if !allow_duplicate && messages.iter().any(|m| same_json(m.get(), message.get())) {
                return Ok(());
            }
            messages.push(message);
            loaded.set(config, key, to_raw(&messages)?)
        })
    }

    /// Removes and returns the messages of flash queue `queue`.
    ///
    /// # Errors
    ///
    /// [`SessionError::Deserialize`] if the messages do not fit `T`; they
    /// then stay queued.
    ///
    /// # Examples
    ///
    /// ```
    /// # use tower_cookie_session::Session;
    /// let session = Session::detached();
    /// session.flash("one")?;
    /// session.flash("two")?;
    /// assert_eq!(session.pop_flash::<String>("")?, ["one", "two"]);
    /// assert!(session.pop_flash::<String>("")?.is_empty());
    /// # Ok::<(), tower_cookie_session::SessionError>(())
    /// ```
    pub fn pop_flash<T: DeserializeOwned>(&self, queue: &str) -> Result<Vec<T>, SessionError> {
        Ok(self.remove(&flash_key(queue))?.unwrap_or_default())
    }

    /// Returns the messages of flash queue `queue`, leaving them queued.
    ///
    /// # Errors
    ///
    /// [`SessionError::Deserialize`] if the messages do not fit `T`.
    ///
    /// # Examples
    ///
    /// ```
    /// # use tower_cookie_session::Session;
    /// let session = Session::detached();
    /// session.flash("hello")?;
    /// assert_eq!(session.peek_flash::<String>("")?, ["hello"]);
    /// assert_eq!(session.peek_flash::<String>("")?, ["hello"]);
    /// # Ok::<(), tower_cookie_session::SessionError>(())
    /// ```
    pub fn peek_flash<T: DeserializeOwned>(&self, queue: &str) -> Result<Vec<T>, SessionError> {
        Ok(self.get(&flash_key(queue))?.unwrap_or_default())
    }
}

fn flash_key(queue: &str) -> String {
    [FLASH_PREFIX, queue].concat()
}

#[cfg(test)]
mod tests {
    use serde_json::value::RawValue;

    use crate::Session;

    #[test]
    fn flash_messages_keep_pyramid_keys_and_types() {
        let s = Session::detached();
        s.flash_to("info", serde_json::json!({"text": "hi", "level": 2}), true)
            .unwrap();
        s.flash_to("info", 7, true).unwrap();
        assert_eq!(s.keys(), ["_f_info"]);
        let raw = s.with(|d| d.state.get("_f_info").unwrap().to_owned());
        assert_eq!(raw, r#"[{"level":2,"text":"hi"},7]"#);
        let popped: Vec<serde_json::Value> = s.pop_flash("info").unwrap();
        assert_eq!(popped.len(), 2);
    }

    #[test]
    fn flashing_keeps_queued_messages_as_they_were_written() {
        let session = Session::detached();
        let queued = RawValue::from_string("[123456789012345678901234, 1.50]".to_owned()).unwrap();
        session.insert("_f_", &queued).unwrap();
        session.flash("next").unwrap();
        let raw: Box<RawValue> = session.get("_f_").unwrap().unwrap();
        assert_eq!(raw.get(), r#"[123456789012345678901234,1.50,"next"]"#);
        // A duplicate is recognised by value, whatever its text.
        session.flash_to("", 1.5, false).unwrap();
        assert_eq!(
            session.peek_flash::<serde_json::Value>("").unwrap().len(),
            3
        );
    }
}
