//! Where in a file a problem stands: the line of the key to blame, found by
//! reading the file again with spans, only when there are problems to place.

use toml::de::{DeTable, DeValue};

/// The 1-based line of `text`'s byte `offset`.
pub fn line_of(text: &str, offset: usize) -> usize {
    text.as_bytes()[..offset.min(text.len())].iter().filter(|b| **b == b'\n').count() + 1
}

/// One file read with spans, to place its problems.
pub struct Locator<'t> {
    text: &'t str,
    root: Option<toml::Spanned<DeTable<'t>>>,
}

impl<'t> Locator<'t> {
    pub fn new(text: &'t str) -> Locator<'t> {
        Locator { text, root: DeTable::parse(text).ok() }
    }

    /// The line of `key` in the table `scope` names (`windows[friday-evening]`,
    /// `policy.environments.production`, `auth.tokens[ci]`), or of the table
    /// itself when `key` is empty.
    pub fn locate(&self, scope: &str, key: &str) -> Option<usize> {
        locate_in(self.text, self.root.as_ref()?, scope, key)
    }
}

#[cfg(test)]
fn locate(text: &str, scope: &str, key: &str) -> Option<usize> {
    Locator::new(text).locate(scope, key)
}

fn locate_in(text: &str, root: &toml::Spanned<DeTable<'_>>, scope: &str, key: &str) -> Option<usize> {
    let mut span = root.span();
    let mut table: &DeTable = root.get_ref();
    let path: Vec<&str> = scope.split('.').filter(|s| !s.is_empty()).chain((!key.is_empty()).then_some(key)).collect();
    for (i, segment) in path.iter().enumerate() {
        let (name, pick) = match segment.split_once('[') {
            Some((name, rest)) => (name, Some(rest.trim_end_matches(']'))),
            None => (*segment, None),
        };
        let value = table.get(name)?;
        span = value.span();
        let value = match (value.get_ref(), pick) {
            (DeValue::Array(items), Some(pick)) => {
                let named = |v: &DeValue| match v {
                    DeValue::Table(t) => ["id", "name"].iter().any(|k| {
                        t.get(*k).is_some_and(|v| matches!(v.get_ref(), DeValue::String(s) if s.as_ref() == pick))
                    }),
                    _ => false,
                };
                let item = items
                    .iter()
                    .find(|v| named(v.get_ref()))
                    .or_else(|| pick.parse::<usize>().ok().and_then(|i| items.get(i)))?;
                span = item.span();
                item.get_ref()
            }
            (v, _) => v,
        };
        match value {
            DeValue::Table(t) => table = t,
            _ if i + 1 == path.len() => {}
            _ => return None,
        }
    }
    Some(line_of(text, span.start))
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = "[server]\nlisten = \"x\"\n\n[[windows]]\nid = \"a\"\ncron = \"bad\"\n\n[[windows]]\nid = \"b\"\nduration = \"1h\"\n\n[policy.environments.production]\nred = \"no\"\n";

    #[test]
    fn keys_are_found_by_their_table_id_or_index() {
        assert_eq!(locate(TEXT, "server", "listen"), Some(2));
        assert_eq!(locate(TEXT, "windows[a]", "cron"), Some(6));
        assert_eq!(locate(TEXT, "windows[b]", "duration"), Some(10));
        assert_eq!(locate(TEXT, "windows[1]", "duration"), Some(10));
        assert_eq!(locate(TEXT, "policy.environments.production", "red"), Some(13));
        assert_eq!(locate(TEXT, "windows[a]", "nothing"), None);
    }
}
