//! Finding the types the macros derive schemas from: `T` in an `Args<T>` parameter, `T` in a
//! `Structured<T>` return type.

use syn::{FnArg, GenericArgument, PathArguments, ReturnType, Signature, Type};

/// The first generic argument of a path type whose last segment is `name`.
fn generic_of<'a>(ty: &'a Type, name: &str) -> Option<&'a Type> {
    let Type::Path(path) = ty else { return None };
    let segment = path.path.segments.last()?;
    if segment.ident != name {
        return None;
    }
    let PathArguments::AngleBracketed(args) = &segment.arguments else { return None };
    args.args.iter().find_map(|a| match a {
        GenericArgument::Type(t) => Some(t),
        _ => None,
    })
}

/// `T` of the `Args<T>` parameter, if there is one.
pub(crate) fn args_type(sig: &Signature) -> Option<&Type> {
    sig.inputs.iter().find_map(|input| match input {
        FnArg::Typed(pat) => generic_of(&pat.ty, "Args"),
        FnArg::Receiver(_) => None,
    })
}

/// `T` of a `Structured<T>` anywhere in the return type (`Result<Structured<T>, E>` included).
pub(crate) fn structured_type(sig: &Signature) -> Option<&Type> {
    let ReturnType::Type(_, ty) = &sig.output else { return None };
    find_structured(ty)
}

fn find_structured(ty: &Type) -> Option<&Type> {
    if let Some(inner) = generic_of(ty, "Structured") {
        return Some(inner);
    }
    let Type::Path(path) = ty else { return None };
    let segment = path.path.segments.last()?;
    let PathArguments::AngleBracketed(args) = &segment.arguments else { return None };
    args.args.iter().find_map(|a| match a {
        GenericArgument::Type(t) => find_structured(t),
        _ => None,
    })
}

/// What each parameter of a handler is, in order.
pub(crate) enum Param {
    /// `Args<T>`.
    Args,
    /// `RequestCtx`.
    Ctx,
    /// `ResourceRequest`.
    Resource,
}

/// The handler's parameters, or an error naming the one the macro cannot supply.
pub(crate) fn params(sig: &Signature) -> syn::Result<Vec<Param>> {
    sig.inputs
        .iter()
        .map(|input| match input {
            FnArg::Typed(pat) => {
                if generic_of(&pat.ty, "Args").is_some() {
                    return Ok(Param::Args);
                }
                match &*pat.ty {
                    Type::Path(p) if p.path.segments.last().is_some_and(|s| s.ident == "RequestCtx") => Ok(Param::Ctx),
                    Type::Path(p) if p.path.segments.last().is_some_and(|s| s.ident == "ResourceRequest") => {
                        Ok(Param::Resource)
                    }
                    other => {
                        Err(syn::Error::new_spanned(other, "expected `Args<T>`, `RequestCtx` or `ResourceRequest`"))
                    }
                }
            }
            FnArg::Receiver(r) => Err(syn::Error::new_spanned(r, "handlers are free functions, not methods")),
        })
        .collect()
}
