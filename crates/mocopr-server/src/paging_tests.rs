//! Unit tests of `paging.rs`.

use super::*;

fn list(n: usize, page: usize) -> PagedList<String> {
    let items = (0..n).map(|i| (format!("t{i:03}"), format!("t{i:03}"))).collect();
    PagedList::new("tools", items, page, CacheHints { ttl_ms: 5, scope: CacheScope::Public }, Bytes::from_static(b"{}"))
}

fn walk(list: &PagedList<String>, modern: bool) -> Vec<String> {
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let page: serde_json::Value = serde_json::from_slice(&list.page(cursor.as_deref(), modern).unwrap()).unwrap();
        seen.extend(page["tools"].as_array().unwrap().iter().map(|v| v.as_str().unwrap().to_owned()));
        match page.get("nextCursor") {
            Some(c) => cursor = Some(c.as_str().unwrap().to_owned()),
            None => return seen,
        }
    }
}

#[test]
fn walking_the_cursors_visits_every_item_once_in_order() {
    for (n, page) in [(0, 3), (1, 3), (3, 3), (10, 3), (10, 100)] {
        let l = list(n, page);
        let expected: Vec<String> = (0..n).map(|i| format!("t{i:03}")).collect();
        assert_eq!(walk(&l, true), expected);
        assert_eq!(walk(&l, false), expected);
    }
}

#[test]
fn modern_pages_carry_hints_and_bad_cursors_are_invalid_params() {
    let l = list(2, 10);
    let page: serde_json::Value = serde_json::from_slice(&l.page(None, true).unwrap()).unwrap();
    assert_eq!(page["resultType"], "complete");
    assert_eq!(page["ttlMs"], 5);
    assert_eq!(page["cacheScope"], "public");
    let legacy: serde_json::Value = serde_json::from_slice(&l.page(None, false).unwrap()).unwrap();
    assert!(legacy.get("resultType").is_none());
    assert_eq!(l.page(Some("***"), true).unwrap_err().code, ErrorCode::INVALID_PARAMS);
}

#[test]
fn a_cursor_between_page_boundaries_still_continues_after_its_item() {
    let l = list(10, 3);
    let cursor = URL_SAFE_NO_PAD.encode("t004");
    let page: serde_json::Value = serde_json::from_slice(&l.page(Some(&cursor), true).unwrap()).unwrap();
    assert_eq!(page["tools"][0], "t005");
}
