use super::*;

fn tok(s: &str) -> Vec<(Option<String>, String)> {
    tokenize(s)
        .unwrap()
        .into_iter()
        .map(|t| (t.key, t.value))
        .collect()
}

#[test]
fn tokenizer_handles_quotes_keys_and_escapes() {
    assert_eq!(
        tok(r#"declare "API down" severity=P1 impact="all \"users\"" 'it''s'"#),
        vec![
            (None, "declare".into()),
            (None, "API down".into()),
            (Some("severity".into()), "P1".into()),
            (Some("impact".into()), "all \"users\"".into()),
            (None, "its".into()),
        ]
    );
    assert_eq!(
        tokenize("note \"oops").unwrap_err(),
        "unclosed quote starting at column 6"
    );
    // A quoted "a=b" is a word, not an option.
    assert_eq!(tok("\"a=b\""), vec![(None, "a=b".into())]);
}

#[test]
fn rest_after_keeps_raw_text() {
    assert_eq!(
        rest_after("note  db is \"slow\" again", 1),
        "db is \"slow\" again"
    );
    assert_eq!(rest_after("note \"quoted all\"", 1), "quoted all");
    assert_eq!(rest_after("note", 1), "");
    assert_eq!(rest_after("note inc=INC-2 db slow", 1), "db slow");
    assert_eq!(rest_after("note inc=INC-2", 1), "");
}
