//! Matching a URI against an RFC 6570 template, to route `resources/read` of templated
//! resources and hand the handler the variables.
//!
//! Supported: literal text, simple expansion `{var}` (one segment, no `/`), reserved expansion
//! `{+var}` (may span `/`), and comma lists `{a,b}` matched as a single variable `a` when the
//! value has no comma. Query expansion `{?x,y}` matches an optional `?x=..&y=..` suffix.

use std::collections::BTreeMap;

/// Whether `uri` has an RFC 6570 expression (`{…}`), which makes it a template: the one rule
/// every resource registration applies.
///
/// ```
/// use mocopr_server::uri_template::has_expression;
///
/// assert!(has_expression("users://{id}/profile"));
/// assert!(!has_expression("mem://hello"));
/// ```
pub fn has_expression(uri: &str) -> bool {
    uri.find('{').is_some_and(|open| uri[open..].contains('}'))
}

/// A parsed URI template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UriTemplate {
    source: String,
    parts: Vec<Part>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    Literal(String),
    Var { name: String, reserved: bool },
    Query(Vec<String>),
}

/// A template that does not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid URI template `{template}`: {reason}")]
pub struct TemplateError {
    /// The template.
    pub template: String,
    /// Why.
    pub reason: &'static str,
}

impl UriTemplate {
    /// Parses `template`.
    pub fn parse(template: &str) -> Result<Self, TemplateError> {
        let error = |reason| TemplateError { template: template.to_owned(), reason };
        let mut parts = Vec::new();
        let mut rest = template;
        while let Some(open) = rest.find('{') {
            if open > 0 {
                parts.push(Part::Literal(rest[..open].to_owned()));
            }
            let close = rest[open..].find('}').ok_or_else(|| error("unclosed `{`"))? + open;
            let expr = &rest[open + 1..close];
            let part = match expr.chars().next() {
                Some('+') => {
                    Part::Var { name: first_name(&expr[1..]).ok_or_else(|| error("empty variable"))?, reserved: true }
                }
                Some('?') => Part::Query(expr[1..].split(',').map(str::to_owned).filter(|s| !s.is_empty()).collect()),
                Some(c) if c.is_ascii_alphanumeric() || c == '_' => {
                    Part::Var { name: first_name(expr).ok_or_else(|| error("empty variable"))?, reserved: false }
                }
                _ => return Err(error("unsupported expression")),
            };
            parts.push(part);
            rest = &rest[close + 1..];
        }
        if rest.contains('}') {
            return Err(error("unmatched `}`"));
        }
        if !rest.is_empty() {
            parts.push(Part::Literal(rest.to_owned()));
        }
        Ok(UriTemplate { source: template.to_owned(), parts })
    }

    /// The template text.
    pub fn as_str(&self) -> &str {
        &self.source
    }

    /// The variables of `uri` when it matches. Takes time linear in the URI's length (times
    /// the template's size), whatever the URI: no backtracking.
    pub fn matches(&self, uri: &str) -> Option<BTreeMap<String, String>> {
        // Most templates a URI is tried against differ in their first literal: no table then.
        if let Some(Part::Literal(prefix)) = self.parts.first()
            && !uri.starts_with(prefix.as_str())
        {
            return None;
        }
        let reachable = self.reachable(uri);
        if !reachable[0][0] {
            return None;
        }
        // Walk forward, each variable taking the longest value after which the rest still
        // matches (so later literals do).
        let mut vars = BTreeMap::new();
        let mut at = 0;
        for (index, part) in self.parts.iter().enumerate() {
            match part {
                Part::Literal(literal) => at += literal.len(),
                Part::Query(names) => {
                    if let Some(query) = uri[at..].strip_prefix('?') {
                        for pair in query.split('&') {
                            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
                            if names.iter().any(|n| n == k) {
                                vars.insert(k.to_owned(), percent_decode(v));
                            }
                        }
                    }
                    at = uri.len();
                }
                Part::Var { name, reserved } => {
                    let limit = var_limit(uri, at, *reserved);
                    let end = (at + 1..=limit).rev().find(|&end| reachable[index + 1][end])?;
                    vars.insert(name.clone(), percent_decode(&uri[at..end]));
                    at = end;
                }
            }
        }
        Some(vars)
    }

    /// `reachable[i][p]`: whether `parts[i..]` match `uri[p..]`, computed from the last part
    /// back, each part in one pass over the URI.
    fn reachable(&self, uri: &str) -> Vec<Vec<bool>> {
        let n = uri.len();
        let mut reachable = vec![vec![false; n + 1]; self.parts.len() + 1];
        reachable[self.parts.len()][n] = true;
        for (index, part) in self.parts.iter().enumerate().rev() {
            let (done, next) = reachable.split_at_mut(index + 1);
            let (here, next) = (&mut done[index], &next[0]);
            match part {
                Part::Literal(literal) => {
                    let literal = literal.as_bytes();
                    for at in 0..=n.saturating_sub(literal.len()) {
                        if uri.as_bytes()[at..].starts_with(literal) {
                            here[at] = next[at + literal.len()];
                        }
                    }
                }
                Part::Query(_) => {
                    // A query is the template's last part and takes the rest, if any.
                    if index + 1 == self.parts.len() {
                        for (at, slot) in here.iter_mut().enumerate() {
                            *slot = at == n || (uri.is_char_boundary(at) && uri[at..].starts_with('?'));
                        }
                    }
                }
                Part::Var { reserved, .. } => {
                    // Walking down: the nearest end after `at` from which the rest matches, and
                    // where a simple variable must stop (the next `/`, `?` or `#`).
                    let mut nearest = if next[n] { n } else { usize::MAX };
                    let mut stop = n;
                    for at in (0..n).rev() {
                        if !*reserved && matches!(uri.as_bytes()[at], b'/' | b'?' | b'#') {
                            stop = at;
                        }
                        let limit = if *reserved { n } else { stop };
                        here[at] = uri.is_char_boundary(at) && nearest <= limit;
                        if next[at] && uri.is_char_boundary(at) {
                            nearest = at;
                        }
                    }
                }
            }
        }
        reachable
    }
}

/// The furthest a variable starting at `at` may reach: the end, or for simple expansion the
/// next `/`, `?` or `#`.
fn var_limit(uri: &str, at: usize, reserved: bool) -> usize {
    if reserved { uri.len() } else { uri[at..].find(['/', '?', '#']).map_or(uri.len(), |i| at + i) }
}

fn first_name(expr: &str) -> Option<String> {
    let name = expr.split(',').next()?.trim_end_matches('*');
    (!name.is_empty()).then(|| name.to_owned())
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let (Some(h), Some(l)) = (hex(bytes[i + 1]), hex(bytes[i + 2]))
        {
            out.push((h * 16 + l) as u8);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8(out).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(template: &str, uri: &str) -> Option<Vec<(String, String)>> {
        UriTemplate::parse(template).unwrap().matches(uri).map(|m| m.into_iter().collect())
    }

    #[test]
    fn simple_variables_match_one_segment() {
        assert_eq!(
            vars("test://template/{id}/data", "test://template/42/data"),
            Some(vec![("id".into(), "42".into())])
        );
        assert_eq!(vars("test://template/{id}/data", "test://template/4/2/data"), None);
        assert_eq!(vars("users://{user}/posts/{post}", "users://ann/posts/7").unwrap().len(), 2);
        assert_eq!(vars("file:///{name}", "file:///a%20b"), Some(vec![("name".into(), "a b".into())]));
    }

    #[test]
    fn reserved_variables_span_slashes_and_queries_are_optional() {
        assert_eq!(vars("file:///{+path}", "file:///a/b/c"), Some(vec![("path".into(), "a/b/c".into())]));
        assert_eq!(vars("search://{q}{?limit}", "search://rust?limit=5").unwrap().len(), 2);
        assert_eq!(vars("search://{q}{?limit}", "search://rust"), Some(vec![("q".into(), "rust".into())]));
    }

    /// The matcher this one replaced: tries every split, longest first (exponential on
    /// hostile input, but obviously right on small ones).
    fn backtracking(parts: &[Part], uri: &str, vars: &mut BTreeMap<String, String>) -> bool {
        let Some((first, rest)) = parts.split_first() else { return uri.is_empty() };
        match first {
            Part::Literal(lit) => uri.strip_prefix(lit.as_str()).is_some_and(|tail| backtracking(rest, tail, vars)),
            Part::Query(names) => {
                let Some(query) = uri.strip_prefix('?') else { return uri.is_empty() && rest.is_empty() };
                for pair in query.split('&') {
                    let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
                    if names.iter().any(|n| n == k) {
                        vars.insert(k.to_owned(), percent_decode(v));
                    }
                }
                rest.is_empty()
            }
            Part::Var { name, reserved } => {
                let limit = var_limit(uri, 0, *reserved);
                (1..=limit).rev().filter(|&end| uri.is_char_boundary(end)).any(|end| {
                    let found = backtracking(rest, &uri[end..], vars);
                    if found {
                        vars.insert(name.clone(), percent_decode(&uri[..end]));
                    }
                    found
                })
            }
        }
    }

    #[test]
    fn every_short_uri_matches_as_the_backtracking_matcher_did() {
        let templates = [
            "{a}",
            "{+a}",
            "x{a}y",
            "{a}/{b}",
            "{+a}/{b}",
            "{+a}/{+b}.j",
            "{a}.{b}",
            "{+a}{?q}",
            "p/{a}{?q,r}",
            "{a}é{+b}",
            "{a}#j",
            "{a}{b}.",
            "a{+a}a",
        ];
        let alphabet = ['a', '/', '.', '?', '#', 'j', '=', 'q', 'é'];
        for template in templates {
            let parsed = UriTemplate::parse(template).unwrap();
            let mut uris = vec![String::new()];
            for _ in 0..5 {
                let longer: Vec<String> =
                    uris.iter().flat_map(|u| alphabet.iter().map(move |c| format!("{u}{c}"))).collect();
                uris.extend(longer);
                uris.sort();
                uris.dedup();
            }
            for uri in &uris {
                let mut expected = BTreeMap::new();
                let expected = backtracking(&parsed.parts, uri, &mut expected).then_some(expected);
                assert_eq!(parsed.matches(uri), expected, "{template} against {uri:?}");
            }
        }
    }

    #[test]
    fn hostile_uris_take_linear_time() {
        // Quadratic or worse for a backtracking matcher (minutes at this size); one pass here.
        let uri = "a/".repeat(200_000);
        assert_eq!(vars("{+a}/{+b}.json", &uri), None);
        assert_eq!(vars("{+a}{+b}{+c}x", &uri), None);
        let uri = format!("{}.json", "a/".repeat(200_000));
        assert!(vars("{+a}/{+b}.json", &uri).is_some());
    }

    #[test]
    fn bad_templates_are_rejected() {
        assert!(UriTemplate::parse("x://{unclosed").is_err());
        assert!(UriTemplate::parse("x://}").is_err());
        assert!(UriTemplate::parse("x://{}").is_err());
    }
}
