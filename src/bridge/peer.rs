//! Who is on the other end of a loopback connection. On Linux the kernel's own
//! socket table (`/proc/net/tcp`, `/proc/net/tcp6`) names the user that owns
//! the client's socket: the bridge serves only its own user, so another account
//! on a shared machine cannot use it, starve it or try passwords on it.
//! Elsewhere the owner is unknown and the local password (and local TLS) are the
//! guard — docs/other-programs.md says so.

use std::net::SocketAddr;

/// Whose connection this is, as far as the OS says.
#[cfg_attr(not(target_os = "linux"), allow(dead_code, reason = "only Linux names a socket's owner"))]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Owner {
    /// The bridge's own user.
    Same,
    /// Another user (its uid, for the log).
    Other(u32),
    /// Not known here (not Linux, or the table did not list it).
    Unknown,
}

/// The owner of the client socket of an accepted connection (`local` is the
/// bridge's end, `peer` the client's).
pub fn owner(local: SocketAddr, peer: SocketAddr) -> Owner {
    #[cfg(target_os = "linux")]
    {
        use std::os::unix::fs::MetadataExt as _;
        let Ok(own) = std::fs::metadata("/proc/self").map(|m| m.uid()) else {
            return Owner::Unknown;
        };
        let table = if peer.is_ipv4() { "/proc/net/tcp" } else { "/proc/net/tcp6" };
        match std::fs::read_to_string(table).ok().and_then(|text| socket_owner(&text, peer, local)) {
            Some(uid) if uid == own => Owner::Same,
            Some(uid) => Owner::Other(uid),
            None => Owner::Unknown,
        }
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = (local, peer);
        Owner::Unknown
    }
}

/// The uid of the socket whose local address is `socket` and remote `other`, from
/// the text of `/proc/net/tcp[6]`.
#[cfg(any(target_os = "linux", test))]
fn socket_owner(table: &str, socket: SocketAddr, other: SocketAddr) -> Option<u32> {
    let (want_local, want_remote) = (hex_address(socket), hex_address(other));
    table.lines().skip(1).find_map(|line| {
        let fields: Vec<&str> = line.split_whitespace().collect();
        let (local, remote, uid) = (fields.get(1)?, fields.get(2)?, fields.get(7)?);
        (local.eq_ignore_ascii_case(&want_local) && remote.eq_ignore_ascii_case(&want_remote))
            .then(|| uid.parse().ok())
            .flatten()
    })
}

/// An address as the kernel's table writes it: the address in host byte order
/// per 32-bit word (little-endian here), then `:` and the port in hex.
#[cfg(any(target_os = "linux", test))]
fn hex_address(address: SocketAddr) -> String {
    use std::net::IpAddr;
    let words: Vec<u8> = match address.ip() {
        IpAddr::V4(ip) => ip.octets().to_vec(),
        IpAddr::V6(ip) => ip.octets().to_vec(),
    };
    let host: String =
        words.chunks(4).map(|word| word.iter().rev().map(|byte| format!("{byte:02X}")).collect::<String>()).collect();
    format!("{host}:{:04X}", address.port())
}

#[cfg(test)]
mod tests {
    use super::*;

    const TABLE: &str =
        "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 0100007F:0633 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 41 1 0 100 0 0 10 0
   1: 0100007F:0633 0100007F:D431 01 00000000:00000000 00:00000000 00000000  1000        0 42 1 0 20 4 30 10 -1
   2: 0100007F:D431 0100007F:0633 01 00000000:00000000 00:00000000 00000000  1001        0 43 1 0 20 4 30 10 -1
";

    #[test]
    fn the_client_socket_is_found_by_its_two_addresses() {
        let bridge: SocketAddr = "127.0.0.1:1587".parse().unwrap();
        let client: SocketAddr = "127.0.0.1:54321".parse().unwrap();
        assert_eq!(hex_address(client), "0100007F:D431");
        assert_eq!(socket_owner(TABLE, client, bridge), Some(1001), "the client's end, not the bridge's");
        let unknown: SocketAddr = "127.0.0.1:54322".parse().unwrap();
        assert_eq!(socket_owner(TABLE, unknown, bridge), None);
        let v6: SocketAddr = "[::1]:1587".parse().unwrap();
        assert_eq!(hex_address(v6), "00000000000000000000000001000000:0633");
    }

    #[test]
    fn a_connection_of_this_process_is_its_own_users() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let client = std::net::TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        let (accepted, peer) = listener.accept().unwrap();
        let expected = if cfg!(target_os = "linux") { Owner::Same } else { Owner::Unknown };
        assert_eq!(owner(accepted.local_addr().unwrap(), peer), expected);
        drop(client);
    }
}
