//! The Gmail API's mail requests: `users.messages.send` with the MIME message as
//! base64url `raw`, and labels for folders — named as Gmail's IMAP names them
//! (`INBOX`, `[Gmail]/Sent Mail`), so a setting's folders mean the same whichever
//! road reads them.

use base64::Engine as _;

use super::{Api, ApiError, Client, count};
use crate::probe::folders::Listed;

pub(super) struct GmailApi;

/// Gmail's system labels and the IMAP names the same folders have.
const SYSTEM_LABELS: [(&str, &str); 7] = [
    ("INBOX", "INBOX"),
    ("SENT", "[Gmail]/Sent Mail"),
    ("DRAFT", "[Gmail]/Drafts"),
    ("SPAM", "[Gmail]/Spam"),
    ("TRASH", "[Gmail]/Trash"),
    ("STARRED", "[Gmail]/Starred"),
    ("IMPORTANT", "[Gmail]/Important"),
];

/// A label's name as IMAP shows it.
fn imap_name(id: &str, name: &str) -> String {
    SYSTEM_LABELS.iter().find(|(label, _)| *label == id).map_or_else(|| name.to_owned(), |(_, imap)| (*imap).to_owned())
}

impl GmailApi {
    /// Every label: its id and its IMAP name.
    fn labels(client: &Client) -> Result<Vec<(String, String)>, ApiError> {
        let answer = client.get_json("users/me/labels")?;
        Ok(answer["labels"]
            .as_array()
            .map(|labels| {
                labels
                    .iter()
                    .filter_map(|l| Some((l["id"].as_str()?.to_owned(), l["name"].as_str()?.to_owned())))
                    .map(|(id, name)| {
                        let shown = imap_name(&id, &name);
                        (id, shown)
                    })
                    .collect()
            })
            .unwrap_or_default())
    }
}

impl Api for GmailApi {
    fn send(&self, client: &Client, mime: &[u8]) -> Result<u16, ApiError> {
        let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(mime);
        let body = serde_json::json!({ "raw": raw }).to_string();
        let (status, _) = client.call("users/me/messages/send", Some(("application/json", body.as_bytes())))?;
        Ok(status)
    }

    fn folders(&self, client: &Client) -> Result<Vec<Listed>, ApiError> {
        Ok(Self::labels(client)?
            .into_iter()
            .map(|(id, name)| Listed { name, sent: id == "SENT", no_select: false })
            .collect())
    }

    fn counts(&self, client: &Client, folder: &str) -> Result<Option<(u32, u32)>, ApiError> {
        let wanted = folder.trim();
        let labels = Self::labels(client)?;
        let Some((id, _)) =
            labels.iter().find(|(id, name)| name == wanted || (wanted.eq_ignore_ascii_case("inbox") && id == "INBOX"))
        else {
            return Ok(None);
        };
        let label = client.get_json(&format!("users/me/labels/{}", super::urlencoding_path(id)))?;
        Ok(Some((count(&label["messagesTotal"]), count(&label["messagesUnread"]))))
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn system_labels_carry_their_imap_names() {
        assert_eq!(super::imap_name("SENT", "SENT"), "[Gmail]/Sent Mail");
        assert_eq!(super::imap_name("Label_12", "Mail Not Read"), "Mail Not Read");
    }
}
