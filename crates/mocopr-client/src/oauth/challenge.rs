//! The `Bearer` or `DPoP` challenge of a `WWW-Authenticate` header (RFC 6750 §3, RFC 9449
//! §7.1, RFC 9728 §5.1): its `error`, `scope` and `resource_metadata`, whatever their order,
//! quoted or not, among other schemes' challenges in the same header.

/// What a server's `Bearer` (or `DPoP`) challenge says.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct BearerChallenge {
    /// The scheme is `DPoP`: the server wants DPoP-bound tokens.
    pub(crate) dpop: bool,
    pub(crate) error: Option<String>,
    pub(crate) scope: Option<String>,
    pub(crate) resource_metadata: Option<String>,
}

/// The `DPoP` challenge among `values` (each a `WWW-Authenticate` header value), else the
/// `Bearer` one, if any.
pub(crate) fn bearer_challenge(values: &[String]) -> Option<BearerChallenge> {
    let all: Vec<BearerChallenge> = values.iter().flat_map(|value| parse(value)).collect();
    let dpop = all.iter().position(|c| c.dpop);
    let mut all = all;
    match dpop {
        Some(at) => Some(all.swap_remove(at)),
        None => all.into_iter().next(),
    }
}

/// One token of a header value: a bare word (a scheme, a parameter name, an unquoted value),
/// a quoted string, `=` or `,`.
#[derive(Debug, PartialEq)]
enum Token {
    Word(String),
    Quoted(String),
    Equals,
    Comma,
}

fn tokens(value: &str) -> Vec<Token> {
    let mut out = Vec::new();
    let mut chars = value.chars().peekable();
    while let Some(&c) = chars.peek() {
        match c {
            ' ' | '\t' => {
                chars.next();
            }
            '=' => {
                chars.next();
                out.push(Token::Equals);
            }
            ',' => {
                chars.next();
                out.push(Token::Comma);
            }
            '"' => {
                chars.next();
                let mut text = String::new();
                while let Some(c) = chars.next() {
                    match c {
                        '\\' => text.extend(chars.next()),
                        '"' => break,
                        other => text.push(other),
                    }
                }
                out.push(Token::Quoted(text));
            }
            _ => {
                let mut word = String::new();
                while let Some(&c) = chars.peek() {
                    if matches!(c, ' ' | '\t' | ',' | '"' | '=') {
                        break;
                    }
                    word.push(c);
                    chars.next();
                }
                out.push(Token::Word(word));
            }
        }
    }
    out
}

/// The `Bearer` and `DPoP` challenges of one header value.
fn parse(value: &str) -> Vec<BearerChallenge> {
    let tokens = tokens(value);
    let mut at = 0;
    let mut found: Vec<BearerChallenge> = Vec::new();
    // Whether the challenge being read is one of those kept.
    let mut keeping = false;
    while at < tokens.len() {
        match (&tokens[at], tokens.get(at + 1)) {
            // `name=value`: a parameter of the current challenge.
            (Token::Word(name), Some(Token::Equals)) => {
                let value = match tokens.get(at + 2) {
                    Some(Token::Word(v) | Token::Quoted(v)) => v.clone(),
                    _ => String::new(),
                };
                if keeping && let Some(challenge) = found.last_mut() {
                    let slot = match name.to_ascii_lowercase().as_str() {
                        "error" => Some(&mut challenge.error),
                        "scope" => Some(&mut challenge.scope),
                        "resource_metadata" => Some(&mut challenge.resource_metadata),
                        _ => None,
                    };
                    if let Some(slot) = slot
                        && slot.is_none()
                    {
                        *slot = Some(value);
                    }
                }
                at += 3;
            }
            // A word not followed by `=`: a new challenge's scheme.
            (Token::Word(scheme), _) => {
                let bearer = scheme.eq_ignore_ascii_case("bearer");
                let dpop = scheme.eq_ignore_ascii_case("dpop");
                keeping = bearer || dpop;
                if keeping {
                    found.push(BearerChallenge { dpop, ..BearerChallenge::default() });
                }
                at += 1;
            }
            _ => at += 1,
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(value: &str) -> Option<BearerChallenge> {
        bearer_challenge(&[value.to_owned()])
    }

    #[test]
    fn parameters_in_any_order_quoted_or_not() {
        let c = one(
            r#"Bearer resource_metadata="https://r.example/.well-known/oauth-protected-resource/mcp", scope="a b""#,
        )
        .unwrap();
        assert_eq!(c.resource_metadata.as_deref(), Some("https://r.example/.well-known/oauth-protected-resource/mcp"));
        assert_eq!(c.scope.as_deref(), Some("a b"));
        assert_eq!(c.error, None);
        let c =
            one(r#"bearer scope="mcp:basic mcp:write", error=insufficient_scope, error_description="needs \"write\"""#)
                .unwrap();
        assert_eq!((c.error.as_deref(), c.scope.as_deref()), (Some("insufficient_scope"), Some("mcp:basic mcp:write")));
        assert_eq!(one("Bearer"), Some(BearerChallenge::default()));
    }

    #[test]
    fn the_bearer_challenge_among_others() {
        let c = one(r#"Basic realm="x", Bearer error="invalid_token", Negotiate abc=="#).unwrap();
        assert_eq!(c.error.as_deref(), Some("invalid_token"));
        assert!(!c.dpop);
        assert_eq!(one(r#"Basic realm="x""#), None);
        let c = one(r#"Bearer scope="s", DPoP algs="ES256", error="use_dpop_nonce""#).unwrap();
        assert!(c.dpop, "DPoP is preferred");
        assert_eq!((c.scope, c.error.as_deref()), (None, Some("use_dpop_nonce")));
        let values = vec![r#"Basic realm="x""#.to_owned(), r#"Bearer scope="t""#.to_owned()];
        assert_eq!(bearer_challenge(&values).unwrap().scope.as_deref(), Some("t"));
    }
}
