//! Parsing the macros' arguments (`name = "…"`, flags) and doc comments.

use syn::parse::{Parse, ParseStream};
use syn::punctuated::Punctuated;
use syn::{Attribute, Expr, ExprLit, Lit, LitStr, Meta, Token};

/// `key = "value"` pairs and bare flags.
#[derive(Default)]
pub(crate) struct Args {
    pub(crate) pairs: Vec<(String, LitStr)>,
    pub(crate) flags: Vec<String>,
}

impl Parse for Args {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let mut args = Args::default();
        for meta in Punctuated::<Meta, Token![,]>::parse_terminated(input)? {
            match meta {
                Meta::Path(path) => args.flags.push(path_name(&path)),
                Meta::NameValue(nv) => match nv.value {
                    Expr::Lit(ExprLit { lit: Lit::Str(s), .. }) => args.pairs.push((path_name(&nv.path), s)),
                    other => return Err(syn::Error::new_spanned(other, "expected a string literal")),
                },
                Meta::List(list) => return Err(syn::Error::new_spanned(list, "unexpected list argument")),
            }
        }
        Ok(args)
    }
}

impl Args {
    pub(crate) fn get(&self, key: &str) -> Option<&LitStr> {
        self.pairs.iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }

    pub(crate) fn flag(&self, key: &str) -> bool {
        self.flags.iter().any(|f| f == key)
    }

    /// Rejects keys and flags the macro does not know, so typos fail loudly.
    pub(crate) fn only(&self, keys: &[&str], flags: &[&str]) -> syn::Result<()> {
        for (key, value) in &self.pairs {
            if !keys.contains(&key.as_str()) {
                return Err(syn::Error::new(
                    value.span(),
                    format!("unknown argument `{key}`; expected one of {keys:?}"),
                ));
            }
        }
        for flag in &self.flags {
            if !flags.contains(&flag.as_str()) {
                return Err(syn::Error::new(
                    proc_macro2::Span::call_site(),
                    format!("unknown flag `{flag}`; expected one of {flags:?}"),
                ));
            }
        }
        Ok(())
    }
}

fn path_name(path: &syn::Path) -> String {
    path.segments.iter().map(|s| s.ident.to_string()).collect::<Vec<_>>().join("::")
}

/// The doc comment of an item, joined into one string.
pub(crate) fn doc_comment(attrs: &[Attribute]) -> Option<String> {
    let lines: Vec<String> = attrs
        .iter()
        .filter(|a| a.path().is_ident("doc"))
        .filter_map(|a| match &a.meta {
            Meta::NameValue(nv) => match &nv.value {
                Expr::Lit(ExprLit { lit: Lit::Str(s), .. }) => Some(s.value().trim().to_owned()),
                _ => None,
            },
            _ => None,
        })
        .collect();
    let text = lines.join("\n").trim().to_owned();
    (!text.is_empty()).then_some(text)
}
