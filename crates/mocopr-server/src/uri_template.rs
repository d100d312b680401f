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

    /// The variables of `uri` when it matches.
    pub fn matches(&self, uri: &str) -> Option<BTreeMap<String, String>> {
        let mut vars = BTreeMap::new();
        match_parts(&self.parts, uri, &mut vars).then_some(vars)
    }
}

fn first_name(expr: &str) -> Option<String> {
    let name = expr.split(',').next()?.trim_end_matches('*');
    (!name.is_empty()).then(|| name.to_owned())
}

fn match_parts(parts: &[Part], uri: &str, vars: &mut BTreeMap<String, String>) -> bool {
    let Some((first, rest)) = parts.split_first() else {
        return uri.is_empty();
    };
    match first {
        Part::Literal(lit) => uri.strip_prefix(lit.as_str()).is_some_and(|tail| match_parts(rest, tail, vars)),
        Part::Query(names) => {
            let Some(query) = uri.strip_prefix('?') else {
                return uri.is_empty() && rest.is_empty();
            };
            for pair in query.split('&') {
                let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
                if names.iter().any(|n| n == k) {
                    vars.insert(k.to_owned(), percent_decode(v));
                }
            }
            rest.is_empty()
        }
        Part::Var { name, reserved } => {
            // Try the longest candidate first so later literals can still match; values are
            // non-empty and, for simple expansion, stop at `/`, `?` and `#`.
            let limit = if *reserved { uri.len() } else { uri.find(['/', '?', '#']).unwrap_or(uri.len()) };
            for end in (1..=limit).rev() {
                if !uri.is_char_boundary(end) {
                    continue;
                }
                if match_parts(rest, &uri[end..], vars) {
                    vars.insert(name.clone(), percent_decode(&uri[..end]));
                    return true;
                }
            }
            false
        }
    }
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

    #[test]
    fn bad_templates_are_rejected() {
        assert!(UriTemplate::parse("x://{unclosed").is_err());
        assert!(UriTemplate::parse("x://}").is_err());
        assert!(UriTemplate::parse("x://{}").is_err());
    }
}
