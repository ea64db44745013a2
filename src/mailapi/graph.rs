//! Microsoft Graph's mail requests: `sendMail` with the MIME message (base64 in a
//! text/plain body, as Graph takes MIME), and `mailFolders` found by display name,
//! one level at a time (`Archive/2026` is a child of `Archive`), with their counts.

use base64::Engine as _;

use super::{Api, ApiError, Client, count};
use crate::probe::folders::Listed;

pub(super) struct Graph;

/// A `$filter` on a folder's display name, quoted as OData quotes (`'` doubled) and
/// percent-encoded as Graph's documentation writes it (a space is `%20`, never `+`).
fn by_name(name: &str) -> String {
    let filter = format!("displayName eq '{}'", name.replace('\'', "''"));
    format!("$filter={}", super::urlencoding_path(&filter))
}

impl Graph {
    /// The folder at `path` ("Inbox", "Archive/2026"): its JSON, or `None`.
    fn folder(client: &Client, path: &str) -> Result<Option<serde_json::Value>, ApiError> {
        let mailbox = client.mailbox_path();
        // The inbox by its well-known name: whatever the mailbox's language calls it.
        if path.trim().eq_ignore_ascii_case("inbox") {
            return client.get_json(&format!("{mailbox}/mailFolders/inbox")).map(Some);
        }
        let mut found: Option<serde_json::Value> = None;
        for name in path.split('/').map(str::trim).filter(|n| !n.is_empty()) {
            let list = match &found {
                None => format!("{mailbox}/mailFolders?{}", by_name(name)),
                Some(parent) => {
                    let id = parent["id"].as_str().unwrap_or_default();
                    format!("{mailbox}/mailFolders/{}/childFolders?{}", super::urlencoding_path(id), by_name(name))
                }
            };
            let answer = client.get_json(&list)?;
            match answer["value"].as_array().and_then(|v| v.first()) {
                Some(folder) => found = Some(folder.clone()),
                None => return Ok(None),
            }
        }
        Ok(found)
    }
}

impl Api for Graph {
    fn send(&self, client: &Client, mime: &[u8]) -> Result<u16, ApiError> {
        let body = base64::engine::general_purpose::STANDARD.encode(mime);
        let (status, _) =
            client.call(&format!("{}/sendMail", client.mailbox_path()), Some(("text/plain", body.as_bytes())))?;
        Ok(status)
    }

    fn folders(&self, client: &Client) -> Result<Vec<Listed>, ApiError> {
        let answer = client.get_json(&format!("{}/mailFolders?$top=250", client.mailbox_path()))?;
        Ok(answer["value"]
            .as_array()
            .map(|folders| {
                folders
                    .iter()
                    .filter_map(|f| f["displayName"].as_str())
                    .map(|name| Listed { name: name.to_owned(), sent: false, no_select: false })
                    .collect()
            })
            .unwrap_or_default())
    }

    fn counts(&self, client: &Client, folder: &str) -> Result<Option<(u32, u32)>, ApiError> {
        match Self::folder(client, folder) {
            Ok(found) => Ok(found.map(|f| (count(&f["totalItemCount"]), count(&f["unreadItemCount"])))),
            // A well-known name the mailbox lacks, or an id gone meanwhile.
            Err(ApiError::Answered { code, .. }) if code == "ErrorItemNotFound" => Ok(None),
            Err(err) => Err(err),
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_folder_name_is_quoted_as_odata_quotes_it() {
        assert_eq!(super::by_name("Sent Items"), "$filter=displayName%20eq%20%27Sent%20Items%27");
        assert_eq!(super::by_name("Bob's & Co"), "$filter=displayName%20eq%20%27Bob%27%27s%20%26%20Co%27");
    }
}
