//! Unit tests of the server-sent event parsing in `http.rs`.

use super::*;

#[test]
fn event_end_is_found_after_the_blank_line() {
    let buffer = b"id: 1\ndata: {}\n\nid: 2\n";
    assert_eq!(find_event_end(buffer, 0), Some(16));
    assert_eq!(find_event_end(b"data: {}\n", 0), None);
}

#[test]
fn a_blank_line_straddling_the_previous_scan_is_found() {
    // The first scan saw "data: x\n" (no event end); the next chunk starts with "\n".
    let buffer = b"data: x\n\nrest";
    assert_eq!(find_event_end(buffer, 8), Some(9));
    // Resuming past every byte never reads out of bounds.
    assert_eq!(find_event_end(buffer, 100), None);
}

#[test]
fn data_lines_are_joined_and_other_fields_ignored() {
    assert_eq!(event_data(b"id: 7\nretry: 500\ndata: {\"a\":\ndata:1}\n\n"), b"{\"a\":\n1}".to_vec());
    assert!(event_data(b"id: 8\nretry: 500\n\n").is_empty());
}

#[test]
fn crlf_and_cr_line_ends_become_lf_even_across_chunks() {
    let mut buffer = Vec::new();
    // The CRLF of the blank line is split between two chunks.
    let after_cr = push_lf_normalized(&mut buffer, b"id: 1\r\ndata: {}\r\n\r", false);
    assert!(after_cr);
    assert!(!push_lf_normalized(&mut buffer, b"\ndata: x\rdata: y\n", after_cr));
    assert_eq!(buffer, b"id: 1\ndata: {}\n\ndata: x\ndata: y\n".to_vec());
    assert_eq!(find_event_end(&buffer, 0), Some(16));
}
